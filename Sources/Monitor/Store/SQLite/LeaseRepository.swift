import Foundation
import GRDB

/// `incident_leases`: one remediation lease per incident (holder, fencing token, expiry, completed).
enum LeaseRepository {
    static func acquire(_ db: Database, _ id: IncidentID, holder: String, now: Date, duration: TimeInterval) throws
        -> RemediationLease?
    {
        let until = now.timeIntervalSince1970 + duration
        let row = try Row.fetchOne(
            db,
            sql: "SELECT holder, token, expires_at, completed FROM incident_leases WHERE incident_id = ?",
            arguments: [id.rawValue]
        )
        guard let row else {
            try db.execute(
                sql: "INSERT INTO incident_leases (incident_id, holder, token, expires_at) VALUES (?, ?, 1, ?)",
                arguments: [id.rawValue, holder, until]
            )
            return RemediationLease(
                incidentID: id,
                holder: holder,
                token: 1,
                expiresAt: Date(timeIntervalSince1970: until)
            )
        }
        let (current, token, expires, completed): (String, Int64, Double, Bool) =
            (row["holder"], row["token"], row["expires_at"], row["completed"])
        guard !completed else { return nil }
        let granted: Int64
        if current == holder {
            granted = token
        } else if expires <= now.timeIntervalSince1970 {
            granted = token + 1
        } else {
            return nil
        }
        try db.execute(
            sql: "UPDATE incident_leases SET holder = ?, token = ?, expires_at = ? WHERE incident_id = ?",
            arguments: [holder, granted, until, id.rawValue]
        )
        return RemediationLease(
            incidentID: id,
            holder: holder,
            token: granted,
            expiresAt: Date(timeIntervalSince1970: until)
        )
    }

    /// Renews `lease` until `at + duration` if it is still current and valid at `at`; throws `LeaseLost` if not.
    static func fence(_ db: Database, _ lease: RemediationLease, at: Date, duration: TimeInterval) throws {
        try db.execute(
            sql: """
                UPDATE incident_leases SET expires_at = ?
                WHERE incident_id = ? AND holder = ? AND token = ? AND expires_at > ? AND NOT completed
                """,
            arguments: [
                at.timeIntervalSince1970 + duration, lease.incidentID.rawValue, lease.holder, lease.token,
                at.timeIntervalSince1970,
            ]
        )
        guard db.changesCount == 1 else { throw LeaseLost(lease: lease) }
    }

    static func complete(_ db: Database, _ lease: RemediationLease) throws {
        try db.execute(
            sql: "UPDATE incident_leases SET completed = 1 WHERE incident_id = ? AND holder = ? AND token = ?",
            arguments: [lease.incidentID.rawValue, lease.holder, lease.token]
        )
    }

    static let schema = """
        CREATE TABLE incident_leases (
            incident_id INTEGER PRIMARY KEY NOT NULL REFERENCES incidents(id),
            holder TEXT NOT NULL,
            token INTEGER NOT NULL,
            expires_at REAL NOT NULL,
            completed INTEGER NOT NULL DEFAULT 0
        );
        """
}
