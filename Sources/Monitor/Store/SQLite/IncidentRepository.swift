import Foundation
import GRDB
import Probing

/// `incidents`: id, property, opened/closed (seconds since 1970), health, `paged_at`.
struct IncidentRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "incidents"
    var id: Int64?
    var property: String
    var opened_at: Double
    var closed_at: Double?
    var health: String
    var paged_at: Double?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var incident: Incident {
        Incident(
            id: IncidentID(id ?? 0),
            property: property,
            openedAt: Date(timeIntervalSince1970: opened_at),
            closedAt: closed_at.map { Date(timeIntervalSince1970: $0) },
            health: Health(rawValue: health) ?? .down,
            pagedAt: paged_at.map { Date(timeIntervalSince1970: $0) }
        )
    }
}

enum IncidentRepository {
    static func open(_ db: Database, property: String, at: Date, health: Health) throws -> Incident {
        var record = IncidentRecord(property: property, opened_at: at.timeIntervalSince1970, health: health.rawValue)
        try record.insert(db)
        return record.incident
    }

    static func find(_ db: Database, _ id: IncidentID) throws -> Incident? {
        try IncidentRecord.fetchOne(db, key: id.rawValue)?.incident
    }

    static func setHealth(_ db: Database, _ id: IncidentID, _ health: Health) throws {
        try db.execute(sql: "UPDATE incidents SET health = ? WHERE id = ?", arguments: [health.rawValue, id.rawValue])
    }

    static func close(_ db: Database, _ id: IncidentID, at: Date) throws {
        try db.execute(
            sql: "UPDATE incidents SET closed_at = ?, health = 'healthy' WHERE id = ?",
            arguments: [at.timeIntervalSince1970, id.rawValue]
        )
    }

    /// Sets `paged_at` unless it is set already; true when this call set it.
    static func markPaged(_ db: Database, _ id: IncidentID, at: Date) throws -> Bool {
        try db.execute(
            sql: "UPDATE incidents SET paged_at = ? WHERE id = ? AND paged_at IS NULL",
            arguments: [at.timeIntervalSince1970, id.rawValue]
        )
        return db.changesCount == 1
    }

    /// The open incident the property opened or joined.
    static func openOne(_ db: Database, property: String) throws -> Incident? {
        try IncidentRecord.fetchOne(
            db,
            sql: """
                SELECT * FROM incidents WHERE closed_at IS NULL AND (property = ? OR id IN (
                    SELECT incident_id FROM incident_members WHERE property = ? AND open = 1))
                ORDER BY id DESC LIMIT 1
                """,
            arguments: [property, property]
        )?.incident
    }

    static func last(_ db: Database, property: String) throws -> Incident? {
        try IncidentRecord.filter(Column("property") == property).order(Column("id").desc).fetchOne(db)?.incident
    }

    static func openCount(_ db: Database) throws -> Int {
        try IncidentRecord.filter(Column("closed_at") == nil).fetchCount(db)
    }

    static func all(_ db: Database, property: String?) throws -> [Incident] {
        var request = IncidentRecord.order(Column("id"))
        if let property { request = request.filter(Column("property") == property) }
        return try request.fetchAll(db).map(\.incident)
    }
}
