public import Foundation
import Logging
import PostgresNIO

/// `incident_messages` in PostgreSQL: one row per incident that has a living Discord message (`message_id`
/// once a create was answered), and the one pending `incident` render row per incident in the outbox, as in
/// the SQLite store (`IncidentMessageRepository`). `touch` locks the incident's message row, so monitors
/// appending to one incident together coalesce into one pending render row instead of adding one each.
enum PostgresIncidentMessages {
    static let schema: [PostgresQuery] = [
        """
        CREATE TABLE incident_messages (
            incident_id bigint PRIMARY KEY REFERENCES incidents (id),
            message_id text,
            created_at double precision NOT NULL
        )
        """,
        "ALTER TABLE incident_events ADD COLUMN notice text",
        """
        CREATE INDEX outbox_pending_render ON outbox (incident_id)
            WHERE kind = 'incident' AND delivered_at IS NULL AND failed_at IS NULL
        """,
    ]

    static func find(_ connection: PostgresConnection, _ id: IncidentID, lock: Bool = false, logger: Logger)
        async throws -> IncidentMessage?
    {
        let rows = try await connection.query(
            """
            SELECT message_id, created_at FROM incident_messages WHERE incident_id = \(id.rawValue)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """,
            logger: logger
        )
        for try await (messageID, created) in rows.decode((String?, Double).self) {
            return IncidentMessage(
                incidentID: id,
                messageID: messageID,
                createdAt: Date(timeIntervalSince1970: created)
            )
        }
        return nil
    }

    static func ensure(_ connection: PostgresConnection, _ id: IncidentID, at: Date, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO incident_messages (incident_id, created_at) VALUES (\(id.rawValue), \(at.timeIntervalSince1970))
            ON CONFLICT (incident_id) DO NOTHING
            """,
            logger: logger
        )
    }

    /// When the incident has a living message: asks for it to be rendered again (coalesced into the pending
    /// row, or a new row when none is pending). Returns the row id, nil when the incident has no message.
    @discardableResult
    static func touch(
        _ connection: PostgresConnection,
        _ id: IncidentID,
        through eventID: Int64,
        now: Date,
        logger: Logger
    ) async throws -> Int64? {
        guard let message = try await find(connection, id, lock: true, logger: logger) else { return nil }
        let payload = IncidentMessageRender.payload(id, through: eventID)
        let pending = try await connection.query(
            """
            SELECT id FROM outbox
            WHERE kind = \(IncidentMessageRender.outboxKind) AND incident_id = \(id.rawValue)
                AND delivered_at IS NULL AND failed_at IS NULL
            ORDER BY id LIMIT 1
            """,
            logger: logger
        )
        var pendingID: Int64?
        for try await id in pending.decode(Int64.self) { pendingID = id }
        if let row = pendingID {
            try await connection.query("UPDATE outbox SET payload = \(payload) WHERE id = \(row)", logger: logger)
            return row
        }
        // The create is the incident's first alert: urgent like a transition alert; later edits are narration.
        return try await PostgresOutbox.insert(
            connection,
            RenderedPayload(payload),
            kind: IncidentMessageRender.outboxKind,
            incidentID: id,
            now: now,
            urgent: message.messageID == nil,
            logger: logger
        )
    }
}

extension PostgresStore {
    public func incidentMessage(incidentID: IncidentID) async throws -> IncidentMessage? {
        try await read { connection, logger in
            try await PostgresIncidentMessages.find(connection, incidentID, logger: logger)
        }
    }

    public func incidentMessageSent(
        outboxID: Int64,
        rendered: String,
        incidentID: IncidentID,
        messageID: String?,
        at: Date
    ) async throws -> Bool {
        try await write { connection, logger in
            if let messageID {
                try await connection.query(
                    "UPDATE incident_messages SET message_id = \(messageID) WHERE incident_id = \(incidentID.rawValue)",
                    logger: logger
                )
            }
            // Delivered only when the row still asks for what was rendered; otherwise it stays due (and claimed
            // by this monitor, which sends it again next).
            let rows = try await connection.query(
                """
                UPDATE outbox SET delivered_at = \(at.timeIntervalSince1970), attempts = attempts + 1,
                    last_error = NULL, claimed_by = NULL, claimed_until = NULL
                WHERE id = \(outboxID) AND payload = \(rendered)
                RETURNING id
                """,
                logger: logger
            )
            for try await _ in rows.decode(Int64.self) { return true }
            return false
        }
    }

    public func forgetIncidentMessage(incidentID: IncidentID, messageID: String) async throws {
        try await write { connection, logger in
            _ = try await connection.query(
                """
                UPDATE incident_messages SET message_id = NULL
                WHERE incident_id = \(incidentID.rawValue) AND message_id = \(messageID)
                """,
                logger: logger
            )
        }
    }
}
