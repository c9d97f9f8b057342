import Foundation
import GRDB

/// `location_state`: each location's own debounce state per property (JSON of `PropertyState`), and
/// `locations`: each location's heartbeat (`last_seen`, seconds since 1970).
///
/// Every probe's record runs these: their statements are prepared once per connection (`cachedStatement`).
enum LocationStateRepository {
    static func find(_ db: Database, property: String, location: String) throws -> PropertyState? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT state FROM location_state WHERE property = ? AND location = ?"),
            arguments: [property, location]
        ).map { try PropertyStateJSON.decode($0) }
    }

    static func save(_ db: Database, location: String, _ state: PropertyState, now: Date) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO location_state (property, location, state, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (property, location) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
                """
        ).execute(arguments: [state.name, location, try PropertyStateJSON.encode(state), now.timeIntervalSince1970])
    }

    static func heartbeat(_ db: Database, location: String, now: Date) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO locations (name, last_seen) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)
                """
        ).execute(arguments: [location, now.timeIntervalSince1970])
    }

    /// What every location has confirmed about `property`, with its heartbeat. `own` is the caller's location
    /// and the state it has just saved: its health is taken from there instead of decoding the row again.
    static func views(_ db: Database, property: String, own: (location: String, state: PropertyState)) throws
        -> [LocationHealth]
    {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT s.location, s.state, l.last_seen FROM location_state s JOIN locations l ON l.name = s.location
                    WHERE s.property = ? ORDER BY s.location
                    """
            ),
            arguments: [property]
        ).map { row in
            let location: String = row[0]
            return LocationHealth(
                location: location,
                health: location == own.location ? own.state.health : try PropertyStateJSON.decode(row[1]).health,
                lastSeen: Date(timeIntervalSince1970: row[2])
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
