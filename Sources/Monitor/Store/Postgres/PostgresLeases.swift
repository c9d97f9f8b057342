import Foundation
import Logging
import PostgresNIO

/// `incident_leases` in PostgreSQL: one remediation lease per incident (holder, fencing token, expiry,
/// completed). The incident's lease row is locked (`FOR UPDATE`) while it is granted, so two monitors trying
/// to take over the same expired lease take turns and only the first gets it.
enum PostgresLeases {
    static func acquire(
        _ connection: PostgresConnection,
        _ id: IncidentID,
        holder: String,
        now: Date,
        duration: TimeInterval,
        logger: Logger
    ) async throws -> RemediationLease? {
        let until = now.timeIntervalSince1970 + duration
        try await connection.query(
            """
            INSERT INTO incident_leases (incident_id, holder, token, expires_at) VALUES (\(id.rawValue), \(holder), 0, 0)
            ON CONFLICT (incident_id) DO NOTHING
            """,
            logger: logger
        )
        let rows = try await connection.query(
            "SELECT holder, token, expires_at, completed FROM incident_leases WHERE incident_id = \(id.rawValue) FOR UPDATE",
            logger: logger
        )
        var current: (String, Int64, Double, Bool)?
        for try await row in rows.decode((String, Int64, Double, Bool).self) { current = row }
        guard let (currentHolder, token, expires, completed) = current, !completed else { return nil }
        let granted: Int64
        if currentHolder == holder && token > 0 {
            granted = token
        } else if expires <= now.timeIntervalSince1970 {
            granted = token + 1
        } else {
            return nil
        }
        try await connection.query(
            """
            UPDATE incident_leases SET holder = \(holder), token = \(granted), expires_at = \(until)
            WHERE incident_id = \(id.rawValue)
            """,
            logger: logger
        )
        return RemediationLease(
            incidentID: id,
            holder: holder,
            token: granted,
            expiresAt: Date(timeIntervalSince1970: until)
        )
    }

    /// Renews `lease` until `at + duration` if it is still current and valid at `at`; throws `LeaseLost` if not.
    static func fence(
        _ connection: PostgresConnection,
        _ lease: RemediationLease,
        at: Date,
        duration: TimeInterval,
        logger: Logger
    ) async throws {
        let rows = try await connection.query(
            """
            UPDATE incident_leases SET expires_at = \(at.timeIntervalSince1970 + duration)
            WHERE incident_id = \(lease.incidentID.rawValue) AND holder = \(lease.holder) AND token = \(lease.token)
                AND expires_at > \(at.timeIntervalSince1970) AND NOT completed
            RETURNING token
            """,
            logger: logger
        )
        for try await _ in rows.decode(Int64.self) { return }
        throw LeaseLost(lease: lease)
    }

    static func complete(_ connection: PostgresConnection, _ lease: RemediationLease, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE incident_leases SET completed = true
            WHERE incident_id = \(lease.incidentID.rawValue) AND holder = \(lease.holder) AND token = \(lease.token)
            """,
            logger: logger
        )
    }

    static let schema: [PostgresQuery] = [
        """
        CREATE TABLE incident_leases (
            incident_id bigint PRIMARY KEY REFERENCES incidents (id),
            holder text NOT NULL,
            token bigint NOT NULL,
            expires_at double precision NOT NULL,
            completed boolean NOT NULL DEFAULT false
        )
        """
    ]
}
