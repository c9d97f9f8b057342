public import Foundation

/// Where the server certificate of an https answer stands against the property's warning window: its own
/// state, apart from the probe's health (an expiring certificate still answers; the monitor warns about it
/// once a day until it is renewed).
public struct CertificateState: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// More than `warningDays` left.
        case ok
        /// Within the warning window.
        case expiring
    }

    public var state: State
    /// Whole days left until `notAfter` (rounded down).
    public var daysLeft: Int
    /// The leaf certificate's notAfter.
    public var notAfter: Date
    /// The warning window (days) it was judged against.
    public var warningDays: Int

    public init(notAfter: Date, warningDays: Int, now: Date) {
        self.notAfter = notAfter
        self.warningDays = warningDays
        let days = notAfter.timeIntervalSince(now) / 86_400
        daysLeft = Int(days.rounded(.down))
        state = days < Double(warningDays) ? .expiring : .ok
    }

    enum CodingKeys: String, CodingKey {
        case state
        case daysLeft = "days_left"
        case notAfter = "not_after"
        case warningDays = "warning_days"
    }
}
