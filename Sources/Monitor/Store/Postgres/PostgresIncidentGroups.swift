import Foundation
import Logging
import PostgresNIO

/// Correlation in PostgreSQL: `incidents.group_key` (a property's host and service) and `incident_members`
/// (the properties whose transitions an incident holds, `open` while the property is not healthy), as in the
/// SQLite store (`IncidentGroupRepository`). What several monitors add: opening or joining takes the group's
/// advisory lock (and a partial unique index keeps one open incident per group), so two properties of one
/// group confirmed down together by two monitors share one incident; leaving locks the incident's row, so the
/// last of two recoveries committed together is the one that closes it.
enum PostgresIncidentGroups {
    static let schema: [PostgresQuery] = [
        "ALTER TABLE incidents ADD COLUMN group_key text",
        "CREATE UNIQUE INDEX incidents_one_open_group ON incidents (group_key) WHERE closed_at IS NULL",
        """
        CREATE TABLE incident_members (
            incident_id bigint NOT NULL REFERENCES incidents (id),
            property text NOT NULL,
            open boolean NOT NULL,
            PRIMARY KEY (incident_id, property)
        )
        """,
        "CREATE INDEX incident_members_open ON incident_members (property) WHERE open",
    ]

    /// The first key of the groups' advisory locks (two-key form; "grp" in ASCII).
    private static let lockClass: Int32 = 0x67_72_70

    /// Holds the group's advisory lock until the transaction ends.
    static func lock(_ connection: PostgresConnection, group: String, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(lockClass), hashtext(\(group)))",
            logger: logger
        )
    }

    /// The group's open incident, its row locked until the transaction ends.
    static func openIncident(_ connection: PostgresConnection, group: String, logger: Logger) async throws
        -> Incident?
    {
        try await PostgresIncidents.first(
            connection.query(
                """
                SELECT \(unescaped: PostgresIncidents.columns) FROM incidents
                WHERE closed_at IS NULL AND group_key = \(group)
                ORDER BY id LIMIT 1 FOR NO KEY UPDATE
                """,
                logger: logger
            )
        )
    }

    static func setGroup(_ connection: PostgresConnection, _ id: IncidentID, _ group: String, logger: Logger)
        async throws
    {
        try await connection.query(
            "UPDATE incidents SET group_key = \(group) WHERE id = \(id.rawValue)",
            logger: logger
        )
    }

    static func join(_ connection: PostgresConnection, _ id: IncidentID, property: String, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO incident_members (incident_id, property, open) VALUES (\(id.rawValue), \(property), true)
            ON CONFLICT (incident_id, property) DO UPDATE SET open = true
            """,
            logger: logger
        )
    }

    /// Marks `property` recovered in the incident; whether no member is left open. Locks the incident's row
    /// first, so concurrent recoveries of its members take turns and the last one sees the others'.
    static func leave(_ connection: PostgresConnection, _ id: IncidentID, property: String, logger: Logger)
        async throws -> Bool
    {
        try await connection.query(
            "SELECT id FROM incidents WHERE id = \(id.rawValue) FOR NO KEY UPDATE",
            logger: logger
        )
        try await connection.query(
            "UPDATE incident_members SET open = false WHERE incident_id = \(id.rawValue) AND property = \(property)",
            logger: logger
        )
        let rows = try await connection.query(
            "SELECT count(*) FROM incident_members WHERE incident_id = \(id.rawValue) AND open",
            logger: logger
        )
        for try await count in rows.decode(Int64.self) { return count == 0 }
        return true
    }
}
