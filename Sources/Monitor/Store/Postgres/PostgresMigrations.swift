import Logging
import PostgresNIO

/// The PostgreSQL schema, version by version, and the migrator. Versions are only ever appended; an applied
/// one is never edited. `schema_migrations` records what ran; `migrate` holds a transaction-scoped advisory
/// lock for the whole run, so instances starting together migrate once (the others wait, then find nothing
/// left to do).
///
/// Times are `double precision` seconds since 1970, as in the SQLite store, so a `Date` reads back equal.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [PostgresQuery]
    }

    /// The advisory lock key every instance takes to migrate ("zumik" in ASCII).
    static let lockKey: Int64 = 0x7A75_6D69_6B

    static let all: [Migration] = [
        Migration(
            version: 1,
            name: "monitor-v1",
            statements: [
                """
                CREATE TABLE property_state (
                    name text PRIMARY KEY,
                    state text NOT NULL,
                    updated_at double precision NOT NULL
                )
                """,
                """
                CREATE TABLE incidents (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    property text NOT NULL,
                    opened_at double precision NOT NULL,
                    closed_at double precision,
                    health text NOT NULL,
                    paged_at double precision
                )
                """,
                // At most one open incident per property, whatever the number of monitors.
                "CREATE UNIQUE INDEX incidents_one_open ON incidents (property) WHERE closed_at IS NULL",
                """
                CREATE TABLE incident_events (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    incident_id bigint NOT NULL REFERENCES incidents (id),
                    at double precision NOT NULL,
                    kind text NOT NULL,
                    payload text NOT NULL
                )
                """,
                "CREATE INDEX incident_events_incident ON incident_events (incident_id)",
                """
                CREATE TABLE outbox (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    created_at double precision NOT NULL,
                    kind text NOT NULL,
                    incident_id bigint,
                    payload text NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at double precision NOT NULL,
                    delivered_at double precision,
                    failed_at double precision,
                    last_error text,
                    urgent boolean NOT NULL DEFAULT false,
                    claimed_by text,
                    claimed_until double precision
                )
                """,
                """
                CREATE INDEX outbox_pending ON outbox (urgent DESC, id)
                    WHERE delivered_at IS NULL AND failed_at IS NULL
                """,
            ]
        ),
        Migration(version: 2, name: "monitor-v3-incident-messages", statements: PostgresIncidentMessages.schema),
        Migration(version: 3, name: "monitor-v3-correlation", statements: PostgresIncidentGroups.schema),
        Migration(version: 4, name: "monitor-v3-reminders", statements: PostgresReminders.schema),
        Migration(
            version: 5,
            name: "monitor-v3-certificate-warnings",
            statements: PostgresCertificateWarnings.schema
        ),
        Migration(version: 6, name: "monitor-v3-history", statements: PostgresHistory.schema),
        Migration(version: 7, name: "monitor-v3-locations", statements: PostgresLocations.schema),
        Migration(version: 8, name: "monitor-v3-leases", statements: PostgresLeases.schema),
        Migration(version: 9, name: "monitor-v3-location-silence", statements: PostgresFleet.schema),
        Migration(
            version: 10,
            name: "monitor-v3-history-location",
            statements: ["ALTER TABLE probe_samples ADD COLUMN location text NOT NULL DEFAULT ''"]
        ),
    ]

    /// Applies the versions not applied yet, each in order, in one transaction under the advisory lock.
    /// Returns the versions this call applied (empty when another instance had done it).
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<Int> = []
            for try await version in try await connection.query(
                "SELECT version FROM schema_migrations",
                logger: logger
            ).decode(Int.self) {
                applied.insert(version)
            }
            var done: [Int] = []
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
                done.append(migration.version)
            }
            return done
        }
    }
}
