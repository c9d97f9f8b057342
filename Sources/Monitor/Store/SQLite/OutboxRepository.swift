import Foundation
import GRDB

/// `outbox`: rendered messages waiting for delivery, with attempts, next attempt, delivered/failed.
struct OutboxRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "outbox"
    var id: Int64?
    var created_at: Double
    var kind: String
    var incident_id: Int64?
    var payload: String
    var attempts: Int = 0
    var next_attempt_at: Double
    var delivered_at: Double?
    var failed_at: Double?
    var last_error: String?
    /// 1 for pages and transition alerts: sent ahead of narration.
    var urgent: Int = 0

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var row: OutboxRow {
        OutboxRow(
            id: id ?? 0,
            createdAt: Date(timeIntervalSince1970: created_at),
            kind: kind,
            incidentID: incident_id.map(IncidentID.init(rawValue:)),
            payload: payload,
            attempts: attempts,
            nextAttemptAt: Date(timeIntervalSince1970: next_attempt_at),
            deliveredAt: delivered_at.map { Date(timeIntervalSince1970: $0) },
            failedAt: failed_at.map { Date(timeIntervalSince1970: $0) },
            lastError: last_error
        )
    }
}

enum OutboxRepository {
    static func insert(
        _ db: Database,
        _ message: any OutboxMessage,
        kind: String,
        incidentID: IncidentID?,
        now: Date,
        urgent: Bool = false
    ) throws -> Int64 {
        var record = OutboxRecord(
            created_at: now.timeIntervalSince1970,
            kind: kind,
            incident_id: incidentID?.rawValue,
            payload: String(decoding: message.body, as: UTF8.self),
            next_attempt_at: now.timeIntervalSince1970,
            urgent: urgent ? 1 : 0
        )
        try record.insert(db)
        return record.id ?? db.lastInsertedRowID
    }

    private static var pending: QueryInterfaceRequest<OutboxRecord> {
        OutboxRecord.filter(Column("delivered_at") == nil && Column("failed_at") == nil)
            .order(Column("urgent").desc, Column("id"))
    }

    /// Pending rows due at `now`, urgent ones (pages, transition alerts) first, then oldest first, stopping at the
    /// first one not due yet.
    static func due(_ db: Database, now: Date, limit: Int) throws -> [OutboxRow] {
        Array(try pending.limit(limit).fetchAll(db).map(\.row).prefix { $0.nextAttemptAt <= now })
    }

    static func nextDue(_ db: Database) throws -> Date? {
        try pending.fetchOne(db).map { Date(timeIntervalSince1970: $0.next_attempt_at) }
    }

    static func all(_ db: Database) throws -> [OutboxRow] {
        try OutboxRecord.order(Column("id")).fetchAll(db).map(\.row)
    }

    static func markDelivered(_ db: Database, _ id: Int64, at: Date) throws {
        try db.execute(
            sql: "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
            arguments: [at.timeIntervalSince1970, id]
        )
    }

    static func scheduleRetry(_ db: Database, _ id: Int64, at: Date, error: String) throws {
        try db.execute(
            sql: "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            arguments: [at.timeIntervalSince1970, error, id]
        )
    }

    static func requeueFailed(_ db: Database, _ ids: [Int64]?, now: Date) throws -> [Int64] {
        let parked = try Int64.fetchAll(db, sql: "SELECT id FROM outbox WHERE failed_at IS NOT NULL ORDER BY id")
        let chosen = ids.map { wanted in parked.filter(Set(wanted).contains) } ?? parked
        for id in chosen {
            try db.execute(
                sql: "UPDATE outbox SET failed_at = NULL, next_attempt_at = ? WHERE id = ?",
                arguments: [now.timeIntervalSince1970, id]
            )
        }
        return chosen
    }

    static func markFailed(_ db: Database, _ id: Int64, at: Date, error: String) throws {
        try db.execute(
            sql: "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
            arguments: [at.timeIntervalSince1970, error, id]
        )
    }
}
