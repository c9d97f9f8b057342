/// What to probe and what counts as healthy: the probe-relevant part of a watched property.
public struct ProbeTarget: Sendable, Hashable {
    /// The property's name, carried into the `ProbeResult`.
    public var name: String
    public var url: String
    /// GET (default), HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
    public var method: String
    /// Accepted status codes (default `[200]`).
    public var expectedStatus: [Int]
    /// A substring the body must contain, if set.
    public var bodyContains: String?
    /// Whole-probe timeout.
    public var timeout: Duration
    /// Total latency (ms) above which the answer is degraded.
    public var degradedMs: Int
    /// Extra CA bundle (PEM file) to trust.
    public var caFile: String?

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
