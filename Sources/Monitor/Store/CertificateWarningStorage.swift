public import Foundation

/// The certificate-expiry warnings (issue 15): when each property was last warned about its certificate, so
/// that the warning repeats once a day until the certificate is renewed, across restarts. A separate seam from
/// `MonitorStorage` so that a backend without it still runs (the monitor then sends no warnings).
public protocol CertificateWarningStorage: Sendable {
    /// In one transaction: queues `message` (outbox kind `certificate`) and notes the time, unless `property`
    /// was warned about the certificate with this `notAfter` less than `every` ago. Returns the outbox row id,
    /// nil when nothing was queued.
    func warnCertificate(
        property: String,
        notAfter: Date,
        now: Date,
        every: TimeInterval,
        message: any OutboxMessage
    ) async throws -> Int64?

    /// In one transaction: forgets the warning of `property` and queues `message` (the all-clear), only when a
    /// warning was on record. Returns the outbox row id, nil when there was none.
    func clearCertificateWarning(property: String, now: Date, message: any OutboxMessage) async throws -> Int64?

    /// When `property` was last warned about its certificate (nil: not warned, or renewed since).
    func lastCertificateWarning(property: String) async throws -> Date?
}
