import Foundation
import Logging
import PostgresNIO

/// `property_state` in PostgreSQL: one row per property, the debounce state as sorted-key JSON (dates as
/// seconds), the same text the SQLite store keeps.
enum PostgresPropertyStates {
    /// The state, its row locked until the transaction ends (`FOR UPDATE`); a missing row is created first, so
    /// two monitors recording the same property take turns.
    static func lock(_ connection: PostgresConnection, _ name: String, now: Date, logger: Logger) async throws
        -> PropertyState
    {
        let fresh = try PropertyStateJSON.encode(PropertyState(name: name))
        try await connection.query(
            """
            INSERT INTO property_state (name, state, updated_at) VALUES (\(name), \(fresh), \(now.timeIntervalSince1970))
            ON CONFLICT (name) DO NOTHING
            """,
            logger: logger
        )
        let rows = try await connection.query(
            "SELECT state FROM property_state WHERE name = \(name) FOR UPDATE",
            logger: logger
        )
        for try await json in rows.decode(String.self) { return try PropertyStateJSON.decode(json) }
        return PropertyState(name: name)
    }

    /// Locks the rows of `names` that exist, in name order (a batch's first statement; `lock` then finds each
    /// held already, and creates a missing one).
    static func lockExisting(_ connection: PostgresConnection, _ names: Set<String>, logger: Logger) async throws {
        let sorted = names.sorted()
        let rows = try await connection.query(
            "SELECT name FROM property_state WHERE name = ANY(\(sorted)) ORDER BY name FOR UPDATE",
            logger: logger
        )
        for try await _ in rows {}
    }

    static func find(_ connection: PostgresConnection, _ name: String, logger: Logger) async throws -> PropertyState? {
        let rows = try await connection.query("SELECT state FROM property_state WHERE name = \(name)", logger: logger)
        for try await json in rows.decode(String.self) { return try PropertyStateJSON.decode(json) }
        return nil
    }

    static func all(_ connection: PostgresConnection, logger: Logger) async throws -> [PropertyState] {
        var states: [PropertyState] = []
        let rows = try await connection.query("SELECT state FROM property_state ORDER BY name", logger: logger)
        for try await json in rows.decode(String.self) { states.append(try PropertyStateJSON.decode(json)) }
        return states
    }

    static func save(_ connection: PostgresConnection, _ state: PropertyState, now: Date, logger: Logger) async throws {
        let json = try PropertyStateJSON.encode(state)
        try await connection.query(
            """
            INSERT INTO property_state (name, state, updated_at) VALUES (\(state.name), \(json), \(now.timeIntervalSince1970))
            ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
            """,
            logger: logger
        )
    }
}
