public import ActionKit
public import Foundation

/// Remediation leases on PostgreSQL: one remediator per incident across the fleet.
extension PostgresStore {
    public func acquireLease(incidentID: IncidentID, holder: String, now: Date, duration: TimeInterval) async throws
        -> RemediationLease?
    {
        try await write { connection, logger in
            try await PostgresLeases.acquire(
                connection,
                incidentID,
                holder: holder,
                now: now,
                duration: duration,
                logger: logger
            )
        }
    }

    public func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String,
        fence lease: RemediationLease,
        duration: TimeInterval
    ) async throws {
        try await write { connection, logger in
            try await PostgresLeases.fence(connection, lease, at: at, duration: duration, logger: logger)
            try await Self.append(
                connection,
                incidentID,
                kind: kind,
                payload: payload,
                at: at,
                notice: notice,
                noticeKind: noticeKind,
                logger: logger
            )
        }
    }

    public func completeLease(_ lease: RemediationLease) async throws {
        try await write { connection, logger in try await PostgresLeases.complete(connection, lease, logger: logger) }
    }
}
