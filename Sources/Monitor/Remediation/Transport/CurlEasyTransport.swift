internal import CCurlShim
import Foundation

/// One libcurl easy transfer per request, performed on a thread of its own so that the blocking
/// `curl_easy_perform` never occupies a thread of the concurrency pool.
///
/// Fresh connection every time, no redirects, HTTP(S) only, `CURLOPT_NOSIGNAL`.
public struct CurlEasyTransport: RemediationTransport {
    public init() {}

    public func send(
        _ request: RemediationHTTPRequest
    ) async throws(RemediationTransportError) -> RemediationHTTPResponse {
        let result: Result<RemediationHTTPResponse, RemediationTransportError> = await withCheckedContinuation {
            continuation in
            let thread = Thread {
                continuation.resume(returning: CurlEasyTransport.perform(request))
            }
            thread.name = "zumik.remediation.curl"
            thread.start()
        }
        return try result.get()
    }

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private static func perform(
        _ request: RemediationHTTPRequest
    ) -> Result<RemediationHTTPResponse, RemediationTransportError> {
        guard globalInit, let handle = curl_easy_init() else {
            return .failure(.init(kind: .invalidRequest, message: "libcurl could not be initialised"))
        }
        defer { curl_easy_cleanup(handle) }

        let bodySink = Sink(limit: request.maxResponseBytes)
        let headerSink = Sink(limit: 256 * 1024)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        for header in request.headers {
            guard !header.name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }),
                !header.value.contains(where: { $0 == "\r" || $0 == "\n" })
            else {
                return .failure(.init(kind: .invalidRequest, message: "header \(header.name) has a line break"))
            }
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // No `Expect: 100-continue` round trip for small JSON bodies.
        headerList = curl_slist_append(headerList, "Expect:")

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            var setup = CURLE_OK
            func set(_ result: CURLcode) { if setup == CURLE_OK { setup = result } }
            set(zumik_curl_setopt_str(handle, CURLOPT_URL, request.url))
            set(zumik_curl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
            set(zumik_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
            set(zumik_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
            set(zumik_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1))
            set(zumik_curl_setopt_long(handle, CURLOPT_FORBID_REUSE, 1))
            set(zumik_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)))
            set(zumik_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)))
            set(zumik_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorPointer.baseAddress))
            set(zumik_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))
            set(zumik_curl_setopt_write(handle, sinkWrite))
            set(zumik_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(bodySink).toOpaque()))
            // Without a header function libcurl hands headers to the write function with this userdata.
            set(zumik_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, Unmanaged.passUnretained(headerSink).toOpaque()))
            switch request.method {
            case "GET": set(zumik_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
            case "POST": set(zumik_curl_setopt_long(handle, CURLOPT_POST, 1))
            default: set(zumik_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method))
            }
            if let body = request.body {
                set(zumik_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                body.withUnsafeBytes { bytes in
                    // COPYPOSTFIELDS copies, so the buffer need not outlive this call.
                    set(
                        zumik_curl_setopt_ptr(
                            handle,
                            CURLOPT_COPYPOSTFIELDS,
                            UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                        )
                    )
                }
            }
            guard setup == CURLE_OK else { return setup }
            return withExtendedLifetime((bodySink, headerSink)) { curl_easy_perform(handle) }
        }

        guard code == CURLE_OK else {
            if code == CURLE_WRITE_ERROR && bodySink.overflowed {
                return .failure(
                    .init(
                        kind: .tooLarge,
                        code: Int(code.rawValue),
                        message: "response body larger than \(request.maxResponseBytes) bytes"
                    )
                )
            }
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            return .failure(.init(kind: kind(of: code), code: Int(code.rawValue), message: message))
        }
        var status = 0
        zumik_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(
            RemediationHTTPResponse(status: status, headers: parseHeaders(headerSink.bytes), body: bodySink.bytes)
        )
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    private static func kind(of code: CURLcode) -> RemediationTransportError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dns
        case CURLE_COULDNT_CONNECT: .connect
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_SHUTDOWN_FAILED,
            CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        default: .network
        }
    }

    /// Headers of the final response only (a `100 Continue` or proxy response resets them).
    private static func parseHeaders(_ bytes: [UInt8]) -> [String: String] {
        var headers: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("HTTP/") {
                headers = [:]
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }
}

/// Collects bytes from libcurl's write callback; only touched by the transfer's own thread.
private final class Sink {
    let limit: Int
    var bytes: [UInt8] = []
    var overflowed = false
    init(limit: Int) { self.limit = limit }
}

private let sinkWrite: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data,
    size,
    count,
    userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.bytes.count + length <= sink.limit else {
        sink.overflowed = true
        return 0
    }
    if let data, length > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
    }
    return length
}
