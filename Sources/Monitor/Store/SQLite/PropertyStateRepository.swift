import Foundation
import GRDB

/// `property_state`: one row per property, the debounce state as sorted-key JSON (dates as seconds).
struct PropertyStateRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "property_state"
    var name: String
    var state: String
    var updated_at: Double
}

enum PropertyStateRepository {
    /// Every probe's record reads and saves its property's row: both statements are prepared once per
    /// connection (`cachedStatement`).
    static func find(_ db: Database, _ name: String) throws -> PropertyState? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT state FROM property_state WHERE name = ?"),
            arguments: [name]
        )
        .map { try PropertyStateJSON.decode($0) }
    }

    static func all(_ db: Database) throws -> [PropertyState] {
        try PropertyStateRecord.order(Column("name")).fetchAll(db).map { try PropertyStateJSON.decode($0.state) }
    }

    static func save(_ db: Database, _ state: PropertyState, now: Date) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO property_state (name, state, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
                """
        ).execute(arguments: [state.name, try PropertyStateJSON.encode(state), now.timeIntervalSince1970])
    }
}
