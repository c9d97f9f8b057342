public import Foundation
import GRDB

/// `certificate_warnings`: the last certificate-expiry warning per property (migration
/// `monitor-v3-certificate-warnings`).
struct CertificateWarningRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "certificate_warnings"
    var property: String
    var not_after: Double
    var warned_at: Double
}

extension MonitorStore: CertificateWarningStorage {
    static func registerCertificateWarnings(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-certificate-warnings") { db in
            try db.execute(
                sql: """
                    CREATE TABLE certificate_warnings (
                        property TEXT PRIMARY KEY NOT NULL,
                        not_after REAL NOT NULL,
                        warned_at REAL NOT NULL
                    );
                    """
            )
        }
    }

    public func warnCertificate(
        property: String,
        notAfter: Date,
        now: Date,
        every: TimeInterval,
        message: any OutboxMessage
    ) async throws -> Int64? {
        try write { db in
            if let last = try CertificateWarningRecord.fetchOne(db, key: property),
                last.not_after == notAfter.timeIntervalSince1970,
                now.timeIntervalSince1970 - last.warned_at < every
            {
                return nil
            }
            let id = try OutboxRepository.insert(db, message, kind: "certificate", incidentID: nil, now: now)
            try CertificateWarningRecord(
                property: property,
                not_after: notAfter.timeIntervalSince1970,
                warned_at: now.timeIntervalSince1970
            ).save(db)
            return id
        }
    }

    public func clearCertificateWarning(property: String, now: Date, message: any OutboxMessage) async throws
        -> Int64?
    {
        try write { db in
            guard try CertificateWarningRecord.deleteOne(db, key: property) else { return nil }
            return try OutboxRepository.insert(db, message, kind: "certificate", incidentID: nil, now: now)
        }
    }

    public func lastCertificateWarning(property: String) async throws -> Date? {
        try read { db in
            try CertificateWarningRecord.fetchOne(db, key: property).map { Date(timeIntervalSince1970: $0.warned_at) }
        }
    }
}
