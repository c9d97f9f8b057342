public import Foundation

/// The one HTTP client seam: the prober, the Discord sender, the ops-agent client and the model client all
/// send an `HTTPRequest` through one of these and read an `HTTPResult`. `CurlEngine` is the implementation.
///
/// `send` never throws: every failure (DNS, connect, TLS, timeout, oversized body, cancellation) comes back as
/// an `HTTPResult` whose `error` is set, with whatever timings curl measured up to that point.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async -> HTTPResult
}

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header fields in order; names are sent as given.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Whole-transfer timeout.
    public var timeout: Duration
    /// Connect (TCP + TLS handshake) timeout; defaults to the whole timeout.
    public var connectTimeout: Duration?
    /// Response bodies longer than this fail with `TransportError.Kind.responseTooLarge`.
    public var maxResponseBytes: Int
    /// A probe: fresh connection, connection not kept for reuse, certificate info collected.
    public var freshConnection: Bool
    /// Extra CA bundle (PEM file) to trust, for private or test certificates.
    public var caFile: String?
    /// Redirects to follow (http and https only); 0, the default, follows none.
    public var maxRedirects: Int

    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(10),
        connectTimeout: Duration? = nil,
        maxResponseBytes: Int = 1 << 20,
        freshConnection: Bool = false,
        caFile: String? = nil,
        maxRedirects: Int = 0
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
        self.freshConnection = freshConnection
        self.caFile = caFile
        self.maxRedirects = maxRedirects
    }
}

extension HTTPRequest {
    /// A header name with a colon or a line break, or a value with a line break, would let a caller's text
    /// forge further header lines: such a request is refused before anything is sent.
    /// Checked by bytes: "\r\n" is one `Character`, so a `Character` comparison would miss it.
    public var headerError: TransportError? {
        for header in headers {
            guard !header.name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 }),
                !header.value.utf8.contains(where: { $0 == 13 || $0 == 10 })
            else {
                return TransportError(
                    kind: .invalidRequest,
                    curlCode: 0,
                    message: "header \(header.name) has a line break"
                )
            }
        }
        return nil
    }
}

/// Phase timings of one transfer, each measured from the start of the transfer (curl's `*_TIME_T`).
public struct PhaseTimings: Sendable, Hashable, Codable {
    /// Name resolution done.
    public var dnsMs: Double
    /// TCP connected.
    public var connectMs: Double
    /// TLS handshake done (0 for plain HTTP).
    public var tlsMs: Double
    /// First response byte received.
    public var firstByteMs: Double
    /// Whole transfer.
    public var totalMs: Double

    public init(
        dnsMs: Double = 0,
        connectMs: Double = 0,
        tlsMs: Double = 0,
        firstByteMs: Double = 0,
        totalMs: Double = 0
    ) {
        self.dnsMs = dnsMs
        self.connectMs = connectMs
        self.tlsMs = tlsMs
        self.firstByteMs = firstByteMs
        self.totalMs = totalMs
    }

    enum CodingKeys: String, CodingKey {
        case dnsMs = "dns_ms"
        case connectMs = "connect_ms"
        case tlsMs = "tls_ms"
        case firstByteMs = "first_byte_ms"
        case totalMs = "total_ms"
    }
}

/// Why a transfer produced no (complete) response.
public struct TransportError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        case dns, connect, tls, timeout, responseTooLarge = "response_too_large", cancelled, invalidRequest =
            "invalid_request", other
    }

    public var kind: Kind
    /// The `CURLE_*` code (0 when the error did not come from curl).
    public var curlCode: Int
    /// curl's error buffer text, or a description of the failure.
    public var message: String

    public init(kind: Kind, curlCode: Int, message: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
    }

    public var description: String { "\(kind.rawValue) (curl \(curlCode)): \(message)" }

    enum CodingKeys: String, CodingKey {
        case kind
        case curlCode = "curl_code"
        case message
    }
}

/// The outcome of one transfer.
public struct HTTPResult: Sendable {
    /// HTTP status of the response, nil when none was received.
    public var status: Int?
    /// Response header fields of the final response (lower-cased names).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var timings: PhaseTimings
    /// `notAfter` of the server's leaf certificate (https probes only).
    public var certificateExpiry: Date?
    /// Set when the transfer failed; `status` may still be set (e.g. a response too large).
    public var error: TransportError?

    public init(
        status: Int? = nil,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        timings: PhaseTimings = PhaseTimings(),
        certificateExpiry: Date? = nil,
        error: TransportError? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
        self.certificateExpiry = certificateExpiry
        self.error = error
    }

    /// The first header value named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

extension Duration {
    package var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    package var timeInterval: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
