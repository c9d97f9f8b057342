public import Foundation
public import Probing

/// `GET /v1/status`. Never contains a secret (no webhook URL, no token).
public struct StatusReport: Sendable, Codable {
    public var generatedAt: Date
    /// The running configuration's generation: 1 at start, one more per accepted reload (SIGHUP).
    public var configGeneration: Int
    /// Whether alerts and pages reach Discord (`state` `ok` or `broken`, with the error and how to fix it).
    public var pager: PagerHealth.Report
    /// Whether the store answers (`backend`, `reachable`, since when not, the error kind; `StoreHealth`).
    public var store: StoreHealth.Report
    public var properties: [PropertyStatus]

    public struct PropertyStatus: Sendable, Codable {
        public var name: String
        public var url: String
        /// nil until the first probe.
        public var state: Health?
        public var alertOnly: Bool
        public var host: String?
        public var silencedUntil: Date?
        public var lastResult: ProbeResult?
        public var openIncident: Incident?
        /// The scheduled maintenance window holding this property's alerts and remediation, while it is open.
        public var maintenance: Maintenance?

        enum CodingKeys: String, CodingKey {
            case name, url, state
            case alertOnly = "alert_only"
            case host
            case silencedUntil = "silenced_until"
            case lastResult = "last_result"
            case openIncident = "open_incident"
            case maintenance
        }
    }

    /// An open maintenance window: its name and when it closes.
    public struct Maintenance: Sendable, Codable, Hashable {
        public var window: String
        public var until: Date
    }

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case configGeneration = "config_generation"
        case pager, store, properties
    }
}
