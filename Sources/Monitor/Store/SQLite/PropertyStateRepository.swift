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
    static func find(_ db: Database, _ name: String) throws -> PropertyState? {
        try PropertyStateRecord.fetchOne(db, key: name).map { try PropertyStateJSON.decode($0.state) }
    }

    static func all(_ db: Database) throws -> [PropertyState] {
        try PropertyStateRecord.order(Column("name")).fetchAll(db).map { try PropertyStateJSON.decode($0.state) }
    }

    static func save(_ db: Database, _ state: PropertyState, now: Date) throws {
        let json = try PropertyStateJSON.encode(state)
        try PropertyStateRecord(name: state.name, state: json, updated_at: now.timeIntervalSince1970).upsert(db)
    }
}
