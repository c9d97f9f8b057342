import ActionKit
public import Foundation
import GRDB

/// `incidents.reminded_at`: when the on-call human was last reminded of a paged, unresolved incident.
enum ReminderRepository {
    static func registerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-reminders") { db in
            try db.execute(sql: "ALTER TABLE incidents ADD COLUMN reminded_at REAL")
        }
    }

    /// Open, paged incidents whose last reminder (or page) is at or before `cutoff`.
    static func due(_ db: Database, cutoff: Date) throws -> [Incident] {
        try IncidentRecord.fetchAll(
            db,
            sql: """
                SELECT * FROM incidents
                WHERE closed_at IS NULL AND paged_at IS NOT NULL AND COALESCE(reminded_at, paged_at) <= ?
                ORDER BY id
                """,
            arguments: [cutoff.timeIntervalSince1970]
        ).map(\.incident)
    }

    static func markReminded(_ db: Database, _ id: IncidentID, at: Date) throws {
        try db.execute(
            sql: "UPDATE incidents SET reminded_at = ? WHERE id = ?",
            arguments: [at.timeIntervalSince1970, id.rawValue]
        )
    }
}

extension MonitorStore {
    public func remindDue(
        now: Date,
        every: TimeInterval,
        message: @escaping @Sendable (Incident) -> any OutboxMessage
    ) async throws -> [IncidentID] {
        try write { db in
            var reminded: [IncidentID] = []
            for incident in try ReminderRepository.due(db, cutoff: now.addingTimeInterval(-every)) {
                try ReminderRepository.markReminded(db, incident.id, at: now)
                let reminder = message(incident)
                let eventID = try IncidentEventRepository.append(
                    db,
                    incidentID: incident.id,
                    at: now,
                    kind: "reminder",
                    payload: .object([:]),
                    notice: reminder
                )
                _ = try OutboxRepository.insert(
                    db,
                    reminder,
                    kind: "reminder",
                    incidentID: incident.id,
                    now: now,
                    urgent: true
                )
                try IncidentMessageRepository.touch(db, incident.id, through: eventID, now: now)
                reminded.append(incident.id)
            }
            return reminded
        }
    }
}
