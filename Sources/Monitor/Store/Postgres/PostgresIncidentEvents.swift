import ActionKit
import Foundation
import Logging
import PostgresNIO

/// `incident_events` in PostgreSQL: records appended to an incident (transitions, remediation journal
/// entries); the foreign key refuses a record for an incident that does not exist.
enum PostgresIncidentEvents {
    static func append(
        _ connection: PostgresConnection,
        incidentID: IncidentID,
        at: Date,
        kind: String,
        payload: JSONValue,
        logger: Logger
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO incident_events (incident_id, at, kind, payload)
            VALUES (\(incidentID.rawValue), \(at.timeIntervalSince1970), \(kind), \(json))
            """,
            logger: logger
        )
    }

    static func all(_ connection: PostgresConnection, incidentID: IncidentID, logger: Logger) async throws
        -> [IncidentEvent]
    {
        let rows = try await connection.query(
            "SELECT id, at, kind, payload FROM incident_events WHERE incident_id = \(incidentID.rawValue) ORDER BY id",
            logger: logger
        )
        var events: [IncidentEvent] = []
        for try await (id, at, kind, payload) in rows.decode((Int64, Double, String, String).self) {
            events.append(
                IncidentEvent(
                    id: id,
                    incidentID: incidentID,
                    at: Date(timeIntervalSince1970: at),
                    kind: kind,
                    payload: (try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))) ?? .null
                )
            )
        }
        return events
    }
}
