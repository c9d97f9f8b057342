public import Foundation
import GRDB

/// `incident_messages`: one row per incident that has a living Discord message; `message_id` is Discord's
/// id once a create was answered. The outbox holds at most one pending `incident` row per incident ("render
/// incident N's message"): every record appended to the incident updates that row's payload (the id of the
/// newest record it must show) instead of adding a row, so a burst of steps becomes one edit.
enum IncidentMessageRepository {
    static let outboxKind = IncidentMessageRender.outboxKind

    static func registerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-incident-messages") { db in
            try db.execute(
                sql: """
                    CREATE TABLE incident_messages (
                        incident_id INTEGER PRIMARY KEY NOT NULL REFERENCES incidents(id),
                        message_id TEXT,
                        created_at REAL NOT NULL
                    );
                    ALTER TABLE incident_events ADD COLUMN notice TEXT;
                    """
            )
        }
    }

    static func find(_ db: Database, _ id: IncidentID) throws -> IncidentMessage? {
        try Row.fetchOne(
            db,
            sql: "SELECT message_id, created_at FROM incident_messages WHERE incident_id = ?",
            arguments: [id.rawValue]
        ).map { row in
            IncidentMessage(
                incidentID: id,
                messageID: row["message_id"],
                createdAt: Date(timeIntervalSince1970: row["created_at"])
            )
        }
    }

    static func ensure(_ db: Database, _ id: IncidentID, at: Date) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO incident_messages (incident_id, created_at) VALUES (?, ?)",
            arguments: [id.rawValue, at.timeIntervalSince1970]
        )
    }

    static func setMessageID(_ db: Database, _ id: IncidentID, _ messageID: String?) throws {
        try db.execute(
            sql: "UPDATE incident_messages SET message_id = ? WHERE incident_id = ?",
            arguments: [messageID, id.rawValue]
        )
    }

    /// When the incident has a living message: asks for it to be rendered again (coalesced into the pending
    /// row, or a new row when none is pending). Returns the row id, nil when the incident has no message.
    @discardableResult
    static func touch(_ db: Database, _ id: IncidentID, through eventID: Int64, now: Date) throws -> Int64? {
        guard let message = try find(db, id) else { return nil }
        let payload = IncidentMessageRender.payload(id, through: eventID)
        if let pending = try Int64.fetchOne(
            db,
            sql: """
                SELECT id FROM outbox WHERE kind = ? AND incident_id = ? AND delivered_at IS NULL AND failed_at IS NULL
                ORDER BY id LIMIT 1
                """,
            arguments: [outboxKind, id.rawValue]
        ) {
            try db.execute(sql: "UPDATE outbox SET payload = ? WHERE id = ?", arguments: [payload, pending])
            return pending
        }
        // The create is the incident's first alert: urgent like a transition alert; later edits are narration.
        return try OutboxRepository.insert(
            db,
            RenderedPayload(payload),
            kind: outboxKind,
            incidentID: id,
            now: now,
            urgent: message.messageID == nil
        )
    }

    /// Marks the row delivered when its payload is still `rendered`; true when it did.
    static func markSent(_ db: Database, outboxID: Int64, rendered: String, at: Date) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL
                WHERE id = ? AND payload = ?
                """,
            arguments: [at.timeIntervalSince1970, outboxID, rendered]
        )
        return db.changesCount == 1
    }
}

extension MonitorStore {
    public func incidentMessage(incidentID: IncidentID) async throws -> IncidentMessage? {
        try read { db in try IncidentMessageRepository.find(db, incidentID) }
    }

    public func incidentMessageSent(
        outboxID: Int64,
        rendered: String,
        incidentID: IncidentID,
        messageID: String?,
        at: Date
    ) async throws -> Bool {
        try write { db in
            if let messageID { try IncidentMessageRepository.setMessageID(db, incidentID, messageID) }
            return try IncidentMessageRepository.markSent(db, outboxID: outboxID, rendered: rendered, at: at)
        }
    }

    public func forgetIncidentMessage(incidentID: IncidentID, messageID: String) async throws {
        try write { db in
            try db.execute(
                sql: "UPDATE incident_messages SET message_id = NULL WHERE incident_id = ? AND message_id = ?",
                arguments: [incidentID.rawValue, messageID]
            )
        }
    }
}
