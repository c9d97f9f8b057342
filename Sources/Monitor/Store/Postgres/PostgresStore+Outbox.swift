public import Foundation

/// The alert outbox on PostgreSQL: rows written in the same transaction as what they announce; each due row is
/// claimed for one monitor under a lease (`PostgresOutbox`), so a fleet delivers it once.
extension PostgresStore {
    public func enqueue(_ message: any OutboxMessage, kind: String, incidentID: IncidentID?, now: Date) async throws
        -> Int64
    {
        try await write { connection, logger in
            try await PostgresOutbox.insert(
                connection,
                message,
                kind: kind,
                incidentID: incidentID,
                now: now,
                logger: logger
            )
        }
    }

    /// The due rows, claimed for this monitor (see `PostgresOutbox`).
    public func dueOutbox(now: Date, limit: Int) async throws -> [OutboxRow] {
        try await write { [holder, outboxLease] connection, logger in
            try await PostgresOutbox.claimDue(
                connection,
                holder: holder,
                now: now,
                lease: outboxLease,
                limit: limit,
                logger: logger
            )
        }
    }

    public func nextOutboxDue() async throws -> Date? {
        try await read { connection, logger in try await PostgresOutbox.nextDue(connection, logger: logger) }
    }

    public func allOutbox() async throws -> [OutboxRow] {
        try await read { connection, logger in try await PostgresOutbox.all(connection, logger: logger) }
    }

    public func markDelivered(_ id: Int64, at: Date) async throws {
        try await write { connection, logger in
            try await PostgresOutbox.markDelivered(connection, id, at: at, logger: logger)
        }
    }

    public func scheduleRetry(_ id: Int64, at: Date, error: String) async throws {
        try await write { connection, logger in
            try await PostgresOutbox.scheduleRetry(connection, id, at: at, error: error, logger: logger)
        }
    }

    public func markFailed(_ id: Int64, at: Date, error: String) async throws {
        try await write { connection, logger in
            try await PostgresOutbox.markFailed(connection, id, at: at, error: error, logger: logger)
        }
    }

    public func requeueFailed(_ ids: [Int64]?, now: Date) async throws -> [Int64] {
        try await write { connection, logger in
            try await PostgresOutbox.requeueFailed(connection, ids, now: now, logger: logger)
        }
    }
}
