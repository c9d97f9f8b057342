public import Foundation
import Logging
import PostgresNIO

/// `certificate_warnings` in PostgreSQL: the last certificate-expiry warning per property, as in the SQLite
/// store (`CertificateWarnings.swift`). The warning is one conditional upsert: a row is written (and the
/// warning queued) only when there was none, the certificate changed, or the last warning is `every` old, so
/// two monitors probing one property warn once; the all-clear is a `DELETE … RETURNING`, so it is sent once.
enum PostgresCertificateWarnings {
    static let schema: [PostgresQuery] = [
        """
        CREATE TABLE certificate_warnings (
            property text PRIMARY KEY,
            not_after double precision NOT NULL,
            warned_at double precision NOT NULL
        )
        """
    ]
}

extension PostgresStore: CertificateWarningStorage {
    public func warnCertificate(
        property: String,
        notAfter: Date,
        now: Date,
        every: TimeInterval,
        message: any OutboxMessage
    ) async throws -> Int64? {
        try await write { connection, logger in
            let (notAfter, now) = (notAfter.timeIntervalSince1970, now.timeIntervalSince1970)
            let rows = try await connection.query(
                """
                INSERT INTO certificate_warnings AS w (property, not_after, warned_at)
                VALUES (\(property), \(notAfter), \(now))
                ON CONFLICT (property) DO UPDATE SET not_after = excluded.not_after, warned_at = excluded.warned_at
                WHERE w.not_after <> excluded.not_after OR excluded.warned_at - w.warned_at >= \(every)
                RETURNING property
                """,
                logger: logger
            )
            var warned = false
            for try await _ in rows.decode(String.self) { warned = true }
            guard warned else { return nil }
            return try await PostgresOutbox.insert(
                connection,
                message,
                kind: "certificate",
                incidentID: nil,
                now: Date(timeIntervalSince1970: now),
                logger: logger
            )
        }
    }

    public func clearCertificateWarning(property: String, now: Date, message: any OutboxMessage) async throws
        -> Int64?
    {
        try await write { connection, logger in
            let rows = try await connection.query(
                "DELETE FROM certificate_warnings WHERE property = \(property) RETURNING property",
                logger: logger
            )
            var cleared = false
            for try await _ in rows.decode(String.self) { cleared = true }
            guard cleared else { return nil }
            return try await PostgresOutbox.insert(
                connection,
                message,
                kind: "certificate",
                incidentID: nil,
                now: now,
                logger: logger
            )
        }
    }

    public func lastCertificateWarning(property: String) async throws -> Date? {
        try await read { connection, logger in
            let rows = try await connection.query(
                "SELECT warned_at FROM certificate_warnings WHERE property = \(property)",
                logger: logger
            )
            for try await at in rows.decode(Double.self) { return Date(timeIntervalSince1970: at) }
            return nil
        }
    }
}
