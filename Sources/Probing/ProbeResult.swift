public import Foundation

/// Health of a property, as classified from one probe or as the debounced state.
public enum Health: String, Sendable, Hashable, Codable, CaseIterable {
    case healthy, degraded, down
}

/// What one probe found, classified.
public struct ProbeResult: Sendable, Hashable, Codable {
    public var property: String
    public var url: String
    public var at: Date
    public var health: Health
    /// Why it is degraded or down (empty when healthy), human-readable.
    public var reasons: [String]
    public var status: Int?
    public var timings: PhaseTimings
    public var certificateExpiry: Date?
    /// The certificate against the warning window (https answers only); `expiring` is its own state, not a
    /// health.
    public var certificate: CertificateState?
    public var error: TransportError?

    public init(
        property: String,
        url: String,
        at: Date,
        health: Health,
        reasons: [String] = [],
        status: Int? = nil,
        timings: PhaseTimings = PhaseTimings(),
        certificateExpiry: Date? = nil,
        error: TransportError? = nil
    ) {
        self.property = property
        self.url = url
        self.at = at
        self.health = health
        self.reasons = reasons
        self.status = status
        self.timings = timings
        self.certificateExpiry = certificateExpiry
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case property, url, at, health, reasons, status, timings
        case certificateExpiry = "certificate_expiry"
        case certificate, error
    }
}
