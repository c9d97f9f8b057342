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
        try PropertyStateRecord.fetchOne(db, key: name).map { try decode($0.state) }
    }

    static func all(_ db: Database) throws -> [PropertyState] {
        try PropertyStateRecord.order(Column("name")).fetchAll(db).map { try decode($0.state) }
    }

    static func save(_ db: Database, _ state: PropertyState, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
        try PropertyStateRecord(name: state.name, state: json, updated_at: now.timeIntervalSince1970).upsert(db)
    }

    private static func decode(_ json: String) throws -> PropertyState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(PropertyState.self, from: Data(json.utf8))
    }
}
