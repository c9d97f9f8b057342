/// What to probe and what counts as healthy: the probe-relevant part of a watched property.
public struct ProbeTarget: Sendable, Hashable {
    /// The property's name, carried into the `ProbeResult`.
    public var name: String
    /// The URL probed (`http(s)`), or for the socket checks the `tcp://host:port` / `dns://name` they show as.
    public var url: String
    /// GET (default), HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
    public var method: String
    /// Accepted status codes (default `[200]`); not checked when a `[STATUS]` condition is given.
    public var expectedStatus: [Int]
    /// A substring the body must contain, if set.
    public var bodyContains: String?
    /// Whole-probe timeout.
    public var timeout: Duration
    /// Total latency (ms) above which the answer is degraded.
    public var degradedMs: Int
    /// Extra CA bundle (PEM file) to trust.
    public var caFile: String?
    /// HTTP (default), a TCP connect or a DNS resolution.
    public var check: CheckKind = .http
    /// Request header fields sent after the probe's own (secret ones describe themselves redacted).
    public var headers: [RequestHeader] = []
    /// Request body, if any.
    public var body: String?
    /// Redirects to follow (0, the default: none; the final answer is classified).
    public var maxRedirects: Int = 0
    /// Gatus-like conditions, all of which must hold (see `Condition`).
    public var conditions: [Condition] = []
    /// Days before the certificate's expiry from which it is reported as expiring (nil: the prober's default).
    public var certWarningDays: Int?

    public init(
        name: String,
        url: String,
        method: String = "GET",
        expectedStatus: [Int] = [200],
        bodyContains: String? = nil,
        timeout: Duration = .seconds(10),
        degradedMs: Int = 2000,
        caFile: String? = nil
    ) {
        self.name = name
        self.url = url
        self.method = method
        self.expectedStatus = expectedStatus
        self.bodyContains = bodyContains
        self.timeout = timeout
        self.degradedMs = degradedMs
        self.caFile = caFile
    }
}

/// The kind of check a property runs.
public enum CheckKind: Sendable, Hashable {
    /// An HTTP(S) request to `ProbeTarget.url`.
    case http
    /// A TCP connect to `host:port` (nothing is sent).
    case tcp(host: String, port: Int)
    /// A name resolution through the system resolver (`getaddrinfo`: `/etc/hosts`, then DNS); healthy when the
    /// name resolves to at least one address of `recordType` and, when `expect` is not empty, to every address
    /// listed there.
    case dns(name: String, recordType: DNSRecordType, expect: [String])
}

/// The address records a DNS check can ask for (what `getaddrinfo` answers).
public enum DNSRecordType: String, Sendable, Hashable, CaseIterable {
    case a = "A"
    case aaaa = "AAAA"
}

/// One request header field. A secret one (taken from the environment) never shows its value in a description.
public struct RequestHeader: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var name: String
    public var value: String
    public var isSecret: Bool

    public init(name: String, value: String, isSecret: Bool = false) {
        self.name = name
        self.value = value
        self.isSecret = isSecret
    }

    public var description: String { "\(name): \(isSecret ? "<redacted>" : value)" }
    public var debugDescription: String { description }
}
