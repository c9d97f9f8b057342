import ActionKit
import Foundation
import Logging
import PostgresNIO

/// `incident_events` in PostgreSQL: records appended to an incident (transitions, remediation journal
/// entries), each with the narration queued with it (`notice`, the living message's timeline); the foreign key
/// refuses a record for an incident that does not exist.
enum PostgresIncidentEvents {
    /// Appends the record; its id.
    @discardableResult
    static func append(
        _ connection: PostgresConnection,
        incidentID: IncidentID,
        at: Date,
        kind: String,
        payload: JSONValue,
        notice: (any OutboxMessage)? = nil,
        logger: Logger
    ) async throws -> Int64 {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        let text = notice.map { String(decoding: $0.body, as: UTF8.self) }
        let rows = try await connection.query(
            """
            INSERT INTO incident_events (incident_id, at, kind, payload, notice)
            VALUES (\(incidentID.rawValue), \(at.timeIntervalSince1970), \(kind), \(json), \(text))
            RETURNING id
            """,
            logger: logger
        )
        for try await id in rows.decode(Int64.self) { return id }
        throw PostgresStoreError.noRow("incident_events", "incident \(incidentID)")
    }

    static func all(_ connection: PostgresConnection, incidentID: IncidentID, logger: Logger) async throws
        -> [IncidentEvent]
    {
        let rows = try await connection.query(
            """
            SELECT id, at, kind, payload, notice FROM incident_events WHERE incident_id = \(incidentID.rawValue)
            ORDER BY id
            """,
            logger: logger
        )
        var events: [IncidentEvent] = []
        for try await (id, at, kind, payload, notice) in rows.decode((Int64, Double, String, String, String?).self) {
            events.append(
                IncidentEvent(
                    id: id,
                    incidentID: incidentID,
                    at: Date(timeIntervalSince1970: at),
                    kind: kind,
                    payload: (try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))) ?? .null,
                    notice: notice
                )
            )
        }
        return events
    }
}
