import Foundation
import Logging
import PostgresNIO

/// `location_state` and `locations` in PostgreSQL: each location's own debounce state per property, and each
/// location's heartbeat. Rows are read and written inside `record`'s transaction, after the property's row
/// lock, so the locations of one property take turns.
enum PostgresLocations {
    static func find(_ connection: PostgresConnection, property: String, location: String, logger: Logger)
        async throws -> PropertyState?
    {
        let rows = try await connection.query(
            "SELECT state FROM location_state WHERE property = \(property) AND location = \(location)",
            logger: logger
        )
        for try await json in rows.decode(String.self) { return try PropertyStateJSON.decode(json) }
        return nil
    }

    static func save(
        _ connection: PostgresConnection,
        location: String,
        _ state: PropertyState,
        now: Date,
        logger: Logger
    )
        async throws
    {
        let json = try PropertyStateJSON.encode(state)
        try await connection.query(
            """
            INSERT INTO location_state (property, location, state, updated_at)
            VALUES (\(state.name), \(location), \(json), \(now.timeIntervalSince1970))
            ON CONFLICT (property, location) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """,
            logger: logger
        )
    }

    static func heartbeat(_ connection: PostgresConnection, location: String, now: Date, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO locations (name, last_seen) VALUES (\(location), \(now.timeIntervalSince1970))
            ON CONFLICT (name) DO UPDATE SET last_seen = greatest(locations.last_seen, excluded.last_seen)
            """,
            logger: logger
        )
    }

    /// What every location has confirmed about `property`, with its heartbeat. `own` is the caller's location
    /// and the state it has just saved: its health is taken from there instead of decoding the row again.
    static func views(
        _ connection: PostgresConnection,
        property: String,
        own: (location: String, state: PropertyState),
        logger: Logger
    ) async throws -> [LocationHealth] {
        let rows = try await connection.query(
            """
            SELECT s.location, s.state, l.last_seen FROM location_state s JOIN locations l ON l.name = s.location
            WHERE s.property = \(property) ORDER BY s.location
            """,
            logger: logger
        )
        var views: [LocationHealth] = []
        for try await (location, state, lastSeen) in rows.decode((String, String, Double).self) {
            views.append(
                LocationHealth(
                    location: location,
                    health: location == own.location ? own.state.health : try PropertyStateJSON.decode(state).health,
                    lastSeen: Date(timeIntervalSince1970: lastSeen)
                )
            )
        }
        return views
    }

    static let schema: [PostgresQuery] = [
        """
        CREATE TABLE location_state (
            property text NOT NULL,
            location text NOT NULL,
            state text NOT NULL,
            updated_at double precision NOT NULL,
            PRIMARY KEY (property, location)
        )
        """,
        "CREATE TABLE locations (name text PRIMARY KEY, last_seen double precision NOT NULL)",
    ]
}
