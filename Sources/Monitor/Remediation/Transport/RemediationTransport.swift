/// The HTTP seam of the remediation half: the agent client and the model client speak through it.
///
/// The probe engine's libcurl multi transport can stand behind it as well as ``CurlEasyTransport``;
/// remediation traffic is a handful of requests per incident, so one blocking easy handle on its
/// own thread per request is plenty.
public protocol RemediationTransport: Sendable {
    func send(_ request: RemediationHTTPRequest) async throws(RemediationTransportError) -> RemediationHTTPResponse
}

public struct RemediationHTTPRequest: Sendable {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    public var url: String
    public var headers: [Header]
    public var body: [UInt8]?
    /// Whole transfer, connect included.
    public var timeout: Duration
    public var connectTimeout: Duration
    /// Larger bodies abort the transfer with ``RemediationTransportError/Kind/tooLarge``.
    public var maxResponseBytes: Int

    public init(
        method: String,
        url: String,
        headers: [Header] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(3),
        maxResponseBytes: Int = 1 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

public struct RemediationHTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; the last value wins.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A transfer that produced no HTTP response.
public struct RemediationTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case dns, connect, tls, timeout, network, tooLarge, invalidRequest
    }

    public var kind: Kind
    /// libcurl's `CURLcode`, or 0 when the error did not come from libcurl.
    public var code: Int
    public var message: String

    public init(kind: Kind, code: Int = 0, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(kind.rawValue) error (curl \(code)): \(message)" }
}
