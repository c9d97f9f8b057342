import ActionKit
import Foundation
import GRDB

/// `incident_events`: records appended to an incident (transitions, remediation journal entries).
struct IncidentEventRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "incident_events"
    var id: Int64?
    var incident_id: Int64
    var at: Double
    var kind: String
    var payload: String
    /// The narration queued with the record (its rendered body), kept for the incident's living message.
    var notice: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

enum IncidentEventRepository {
    @discardableResult
    static func append(
        _ db: Database,
        incidentID: IncidentID,
        at: Date,
        kind: String,
        payload: JSONValue,
        notice: (any OutboxMessage)? = nil
    ) throws -> Int64 {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        var record = IncidentEventRecord(
            incident_id: incidentID.rawValue,
            at: at.timeIntervalSince1970,
            kind: kind,
            payload: json,
            notice: notice.map { String(decoding: $0.body, as: UTF8.self) }
        )
        try record.insert(db)
        return record.id ?? db.lastInsertedRowID
    }

    static func all(_ db: Database, incidentID: IncidentID) throws -> [IncidentEvent] {
        try IncidentEventRecord.filter(Column("incident_id") == incidentID.rawValue).order(Column("id")).fetchAll(db)
            .map {
                IncidentEvent(
                    id: $0.id ?? 0,
                    incidentID: IncidentID($0.incident_id),
                    at: Date(timeIntervalSince1970: $0.at),
                    kind: $0.kind,
                    payload: (try? JSONDecoder().decode(JSONValue.self, from: Data($0.payload.utf8))) ?? .null,
                    notice: $0.notice
                )
            }
    }
}
