import Foundation
import Logging
import PostgresNIO

/// `outbox` in PostgreSQL: rendered messages waiting for delivery, shared by every monitor on the database.
///
/// A sender claims the rows it is about to send (`claimed_by`, `claimed_until`): rows are locked with
/// `FOR UPDATE SKIP LOCKED` while claimed, and a row another monitor holds counts as not due until its claim
/// expires, so two senders never send the same row, and order is kept (a held row holds back the rows after
/// it, as a row waiting for a retry does). Delivered, retried and parked rows drop their claim.
enum PostgresOutbox {
    private static let columns =
        "id, created_at, kind, incident_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error"

    static func insert(
        _ connection: PostgresConnection,
        _ message: any OutboxMessage,
        kind: String,
        incidentID: IncidentID?,
        now: Date,
        urgent: Bool = false,
        logger: Logger
    ) async throws -> Int64 {
        let payload = String(decoding: message.body, as: UTF8.self)
        let at = now.timeIntervalSince1970
        let rows = try await connection.query(
            """
            INSERT INTO outbox (created_at, kind, incident_id, payload, next_attempt_at, urgent)
            VALUES (\(at), \(kind), \(incidentID?.rawValue), \(payload), \(at), \(urgent))
            RETURNING id
            """,
            logger: logger
        )
        for try await id in rows.decode(Int64.self) { return id }
        throw PostgresStoreError.noRow("outbox", kind)
    }

    /// Pending rows due at `now` for `holder`, urgent ones first, then oldest first, stopping at the first one
    /// not due yet (or held by another monitor); claims them for `holder` until `now + lease`.
    static func claimDue(
        _ connection: PostgresConnection,
        holder: String,
        now: Date,
        lease: TimeInterval,
        limit: Int,
        logger: Logger
    ) async throws -> [OutboxRow] {
        let at = now.timeIntervalSince1970
        let pending = try await decode(
            connection.query(
                """
                SELECT \(unescaped: columns), claimed_by, claimed_until FROM outbox
                WHERE delivered_at IS NULL AND failed_at IS NULL
                ORDER BY urgent DESC, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            ),
            holder: holder,
            now: at
        )
        let due = Array(pending.prefix { $0.nextAttemptAt <= now })
        if !due.isEmpty {
            try await connection.query(
                """
                UPDATE outbox SET claimed_by = \(holder), claimed_until = \(at + lease)
                WHERE id = ANY(\(due.map(\.id)))
                """,
                logger: logger
            )
        }
        return due
    }

    /// When the first pending row is due (nil when nothing is pending).
    static func nextDue(_ connection: PostgresConnection, logger: Logger) async throws -> Date? {
        let rows = try await connection.query(
            """
            SELECT next_attempt_at FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL
            ORDER BY urgent DESC, id LIMIT 1
            """,
            logger: logger
        )
        for try await at in rows.decode(Double.self) { return Date(timeIntervalSince1970: at) }
        return nil
    }

    static func all(_ connection: PostgresConnection, logger: Logger) async throws -> [OutboxRow] {
        try await decode(
            connection.query(
                "SELECT \(unescaped: columns), claimed_by, claimed_until FROM outbox ORDER BY id",
                logger: logger
            ),
            holder: nil,
            now: 0
        )
    }

    static func markDelivered(_ connection: PostgresConnection, _ id: Int64, at: Date, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE outbox SET delivered_at = \(at.timeIntervalSince1970), attempts = attempts + 1, last_error = NULL,
                claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    static func scheduleRetry(_ connection: PostgresConnection, _ id: Int64, at: Date, error: String, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            UPDATE outbox SET next_attempt_at = \(at.timeIntervalSince1970), attempts = attempts + 1,
                last_error = \(error), claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    static func markFailed(_ connection: PostgresConnection, _ id: Int64, at: Date, error: String, logger: Logger)
        async throws
    {
        try await connection.query(
            """
            UPDATE outbox SET failed_at = \(at.timeIntervalSince1970), attempts = attempts + 1, last_error = \(error),
                claimed_by = NULL, claimed_until = NULL
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    /// Queues parked rows again (`ids` nil: all of them), due at `now`; the ids requeued, in order.
    static func requeueFailed(_ connection: PostgresConnection, _ ids: [Int64]?, now: Date, logger: Logger)
        async throws -> [Int64]
    {
        let at = now.timeIntervalSince1970
        let rows =
            if let ids {
                try await connection.query(
                    """
                    UPDATE outbox SET failed_at = NULL, next_attempt_at = \(at)
                    WHERE failed_at IS NOT NULL AND id = ANY(\(ids)) RETURNING id
                    """,
                    logger: logger
                )
            } else {
                try await connection.query(
                    "UPDATE outbox SET failed_at = NULL, next_attempt_at = \(at) WHERE failed_at IS NOT NULL RETURNING id",
                    logger: logger
                )
            }
        var requeued: [Int64] = []
        for try await id in rows.decode(Int64.self) { requeued.append(id) }
        return requeued.sorted()
    }

    /// The rows; one held by a monitor other than `holder` whose claim has not expired at `now` reads as not due
    /// before its claim ends.
    private static func decode(_ rows: PostgresRowSequence, holder: String?, now: Double) async throws -> [OutboxRow] {
        var out: [OutboxRow] = []
        for try await (id, created, kind, incident, payload, attempts, next, delivered, failed, error, claimedBy, until)
            in rows.decode(
                (Int64, Double, String, Int64?, String, Int32, Double, Double?, Double?, String?, String?, Double?).self
            )
        {
            var nextAttempt = next
            if let holder, let claimedBy, claimedBy != holder, let until, until > now {
                nextAttempt = max(nextAttempt, until)
            }
            out.append(
                OutboxRow(
                    id: id,
                    createdAt: Date(timeIntervalSince1970: created),
                    kind: kind,
                    incidentID: incident.map(IncidentID.init(rawValue:)),
                    payload: payload,
                    attempts: Int(attempts),
                    nextAttemptAt: Date(timeIntervalSince1970: nextAttempt),
                    deliveredAt: delivered.map { Date(timeIntervalSince1970: $0) },
                    failedAt: failed.map { Date(timeIntervalSince1970: $0) },
                    lastError: error
                )
            )
        }
        return out
    }
}
