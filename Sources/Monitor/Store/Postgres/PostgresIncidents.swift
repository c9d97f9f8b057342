import Foundation
import Logging
import PostgresNIO
import Probing

/// `incidents` in PostgreSQL: id, property, opened/closed (seconds since 1970), health, `paged_at`. A partial
/// unique index keeps one open incident per property.
enum PostgresIncidents {
    static let columns = "id, property, opened_at, closed_at, health, paged_at"

    static func open(_ connection: PostgresConnection, property: String, at: Date, health: Health, logger: Logger)
        async throws -> Incident
    {
        let rows = try await connection.query(
            """
            INSERT INTO incidents (property, opened_at, health) VALUES (\(property), \(at.timeIntervalSince1970), \(health.rawValue))
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let incident = try await first(rows) else { throw PostgresStoreError.noRow("incidents", property) }
        return incident
    }

    static func find(_ connection: PostgresConnection, _ id: IncidentID, logger: Logger) async throws -> Incident? {
        try await first(
            connection.query("SELECT \(unescaped: columns) FROM incidents WHERE id = \(id.rawValue)", logger: logger)
        )
    }

    static func setHealth(_ connection: PostgresConnection, _ id: IncidentID, _ health: Health, logger: Logger)
        async throws
    {
        try await connection.query(
            "UPDATE incidents SET health = \(health.rawValue) WHERE id = \(id.rawValue)",
            logger: logger
        )
    }

    static func close(_ connection: PostgresConnection, _ id: IncidentID, at: Date, logger: Logger) async throws {
        try await connection.query(
            "UPDATE incidents SET closed_at = \(at.timeIntervalSince1970), health = 'healthy' WHERE id = \(id.rawValue)",
            logger: logger
        )
    }

    /// Sets `paged_at` unless it is set already; true when this call set it. Concurrent callers queue on the
    /// row lock, and the later one finds `paged_at` set.
    static func markPaged(_ connection: PostgresConnection, _ id: IncidentID, at: Date, logger: Logger) async throws
        -> Bool
    {
        let rows = try await connection.query(
            """
            UPDATE incidents SET paged_at = \(at.timeIntervalSince1970) WHERE id = \(id.rawValue) AND paged_at IS NULL
            RETURNING id
            """,
            logger: logger
        )
        for try await _ in rows.decode(Int64.self) { return true }
        return false
    }

    /// The open incident the property opened or joined.
    static func openOne(_ connection: PostgresConnection, property: String, logger: Logger) async throws -> Incident? {
        try await first(
            connection.query(
                """
                SELECT \(unescaped: columns) FROM incidents WHERE closed_at IS NULL AND (property = \(property) OR id IN (
                    SELECT incident_id FROM incident_members WHERE property = \(property) AND open))
                ORDER BY id DESC LIMIT 1
                """,
                logger: logger
            )
        )
    }

    static func last(_ connection: PostgresConnection, property: String, logger: Logger) async throws -> Incident? {
        try await first(
            connection.query(
                "SELECT \(unescaped: columns) FROM incidents WHERE property = \(property) ORDER BY id DESC LIMIT 1",
                logger: logger
            )
        )
    }

    static func openCount(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query("SELECT count(*) FROM incidents WHERE closed_at IS NULL", logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    static func all(_ connection: PostgresConnection, property: String?, logger: Logger) async throws -> [Incident] {
        let rows =
            if let property {
                try await connection.query(
                    "SELECT \(unescaped: columns) FROM incidents WHERE property = \(property) ORDER BY id",
                    logger: logger
                )
            } else {
                try await connection.query("SELECT \(unescaped: columns) FROM incidents ORDER BY id", logger: logger)
            }
        return try await decode(rows)
    }

    static func first(_ rows: PostgresRowSequence) async throws -> Incident? {
        try await decode(rows).first
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [Incident] {
        var incidents: [Incident] = []
        for try await (id, property, opened, closed, health, paged) in rows.decode(
            (Int64, String, Double, Double?, String, Double?).self
        ) {
            incidents.append(
                Incident(
                    id: IncidentID(id),
                    property: property,
                    openedAt: Date(timeIntervalSince1970: opened),
                    closedAt: closed.map { Date(timeIntervalSince1970: $0) },
                    health: Health(rawValue: health) ?? .down,
                    pagedAt: paged.map { Date(timeIntervalSince1970: $0) }
                )
            )
        }
        return incidents
    }
}
