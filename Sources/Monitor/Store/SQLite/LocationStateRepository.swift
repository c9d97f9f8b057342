import Foundation
import GRDB

/// `location_state`: each location's own debounce state per property (JSON of `PropertyState`), and
/// `locations`: each location's heartbeat (`last_seen`, seconds since 1970).
enum LocationStateRepository {
    static func find(_ db: Database, property: String, location: String) throws -> PropertyState? {
        try String.fetchOne(
            db,
            sql: "SELECT state FROM location_state WHERE property = ? AND location = ?",
            arguments: [property, location]
        ).map { try PropertyStateJSON.decode($0) }
    }

    static func save(_ db: Database, location: String, _ state: PropertyState, now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO location_state (property, location, state, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (property, location) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
                """,
            arguments: [state.name, location, try PropertyStateJSON.encode(state), now.timeIntervalSince1970]
        )
    }

    static func heartbeat(_ db: Database, location: String, now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO locations (name, last_seen) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)
                """,
            arguments: [location, now.timeIntervalSince1970]
        )
    }

    /// What every location has confirmed about `property`, with its heartbeat.
    static func views(_ db: Database, property: String) throws -> [LocationHealth] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT s.location, s.state, l.last_seen FROM location_state s JOIN locations l ON l.name = s.location
                WHERE s.property = ? ORDER BY s.location
                """,
            arguments: [property]
        ).map { row in
            LocationHealth(
                location: row["location"],
                health: try PropertyStateJSON.decode(row["state"]).health,
                lastSeen: Date(timeIntervalSince1970: row["last_seen"])
            )
        }
    }

    static let schema = """
        CREATE TABLE location_state (
            property TEXT NOT NULL,
            location TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (property, location)
        );
        CREATE TABLE locations (
            name TEXT PRIMARY KEY NOT NULL,
            last_seen REAL NOT NULL
        );
        """
}
