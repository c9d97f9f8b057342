public import Foundation
import GRDB

/// The alert outbox on SQLite: rows written in the same transaction as what they announce, delivered by
/// `AlertOutbox` (one process, so a due row is simply read).
extension MonitorStore {
    @discardableResult
    public func enqueue(_ message: any OutboxMessage, kind: String, incidentID: IncidentID?, now: Date = Date())
        async throws
        -> Int64
    {
        try write { db in try OutboxRepository.insert(db, message, kind: kind, incidentID: incidentID, now: now) }
    }

    public func dueOutbox(now: Date, limit: Int = 20) throws -> [OutboxRow] {
        try read { db in try OutboxRepository.due(db, now: now, limit: limit) }
    }

    public func nextOutboxDue() throws -> Date? {
        try read { db in try OutboxRepository.nextDue(db) }
    }

    public func allOutbox() throws -> [OutboxRow] {
        try read { db in try OutboxRepository.all(db) }
    }

    public func markDelivered(_ id: Int64, at: Date) throws {
        try write { db in try OutboxRepository.markDelivered(db, id, at: at) }
    }

    public func scheduleRetry(_ id: Int64, at: Date, error: String) throws {
        try write { db in try OutboxRepository.scheduleRetry(db, id, at: at, error: error) }
    }

    public func markFailed(_ id: Int64, at: Date, error: String) throws {
        try write { db in try OutboxRepository.markFailed(db, id, at: at, error: error) }
    }

    public func requeueFailed(_ ids: [Int64]?, now: Date) throws -> [Int64] {
        try write { db in try OutboxRepository.requeueFailed(db, ids, now: now) }
    }
}
