import ActionKit
public import Foundation
import Logging
import PostgresNIO

/// `incidents.reminded_at` in PostgreSQL: when the on-call human was last reminded of a paged, unresolved
/// incident (as `ReminderRepository` in the SQLite store). The due incidents are locked (`FOR NO KEY UPDATE`)
/// and re-checked after a wait, so two monitors reminding at once remind each incident once.
enum PostgresReminders {
    static let schema: [PostgresQuery] = ["ALTER TABLE incidents ADD COLUMN reminded_at double precision"]

    /// Open, paged incidents whose last reminder (or page) is at or before `cutoff`, their rows locked.
    static func due(_ connection: PostgresConnection, cutoff: Date, logger: Logger) async throws -> [Incident] {
        try await PostgresIncidents.decode(
            connection.query(
                """
                SELECT \(unescaped: PostgresIncidents.columns) FROM incidents
                WHERE closed_at IS NULL AND paged_at IS NOT NULL
                    AND COALESCE(reminded_at, paged_at) <= \(cutoff.timeIntervalSince1970)
                ORDER BY id FOR NO KEY UPDATE
                """,
                logger: logger
            )
        )
    }

    static func markReminded(_ connection: PostgresConnection, _ id: IncidentID, at: Date, logger: Logger)
        async throws
    {
        try await connection.query(
            "UPDATE incidents SET reminded_at = \(at.timeIntervalSince1970) WHERE id = \(id.rawValue)",
            logger: logger
        )
    }
}

extension PostgresStore {
    public func remindDue(
        now: Date,
        every: TimeInterval,
        message: @escaping @Sendable (Incident) -> any OutboxMessage
    ) async throws -> [IncidentID] {
        try await write { connection, logger in
            var reminded: [IncidentID] = []
            for incident in try await PostgresReminders.due(
                connection,
                cutoff: now.addingTimeInterval(-every),
                logger: logger
            ) {
                try await PostgresReminders.markReminded(connection, incident.id, at: now, logger: logger)
                let reminder = message(incident)
                let eventID = try await PostgresIncidentEvents.append(
                    connection,
                    incidentID: incident.id,
                    at: now,
                    kind: "reminder",
                    payload: .object([:]),
                    notice: reminder,
                    logger: logger
                )
                _ = try await PostgresOutbox.insert(
                    connection,
                    reminder,
                    kind: "reminder",
                    incidentID: incident.id,
                    now: now,
                    urgent: true,
                    logger: logger
                )
                try await PostgresIncidentMessages.touch(
                    connection,
                    incident.id,
                    through: eventID,
                    now: now,
                    logger: logger
                )
                reminded.append(incident.id)
            }
            return reminded
        }
    }
}
