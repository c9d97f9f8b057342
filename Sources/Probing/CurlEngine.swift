// One concern, kept in one file on purpose (about 440 lines): the libcurl multi engine — its thread, its
// queue, the easy-handle setup and the C callbacks share private state that splitting would have to expose.

internal import CCurlShim
import Foundation
import Synchronization

/// The libcurl multi engine: one dedicated thread runs `curl_multi_poll`; callers on any task submit requests
/// through a locked queue and wake the thread with `curl_multi_wakeup`, the only libcurl call made off that
/// thread. Every continuation is resumed exactly once: on completion, on cancellation (the easy handle is
/// removed on the curl thread) or on shutdown.
///
/// At most `maxInFlight` transfers run at once; the rest wait in the queue, so that the measured phase
/// timings are the server's, not our own queueing.
public final class CurlEngine: HTTPTransport {
    private let core: Core

    /// - Parameter maxInFlight: cap on concurrent transfers (default 64).
    public init(maxInFlight: Int = 64) {
        CurlEngine.globalInit
        core = Core(maxInFlight: max(1, maxInFlight))
        let core = self.core
        let thread = Thread { core.run() }
        thread.name = "zumik-curl"
        thread.start()
    }

    deinit { core.shutdown() }

    /// Stops the curl thread; transfers still queued or running finish as cancelled.
    public func shutdown() { core.shutdown() }

    public func send(_ request: HTTPRequest) async -> HTTPResult {
        if let error = request.headerError { return HTTPResult(error: error) }
        let id = core.nextID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<HTTPResult, Never>) in
                core.submit(Transfer(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            core.cancel(id)
        }
    }

    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()
}

/// One transfer: owned by the submitting task until queued, then by the curl thread only.
private final class Transfer: @unchecked Sendable {
    // @unchecked: after `submit`, only the curl thread touches the mutable fields.
    let id: UInt64
    let request: HTTPRequest
    private var continuation: CheckedContinuation<HTTPResult, Never>?
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body: [UInt8] = []
    var headerLines: [String] = []
    var tooLarge = false
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(id: UInt64, request: HTTPRequest, continuation: CheckedContinuation<HTTPResult, Never>) {
        self.id = id
        self.request = request
        self.continuation = continuation
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let easy { curl_easy_cleanup(easy) }
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    func resume(_ result: HTTPResult) {
        guard let continuation else { return }
        self.continuation = nil
        continuation.resume(returning: result)
    }
}

private final class Core: @unchecked Sendable {
    // @unchecked: `multi` and `active` belong to the curl thread; everything else is behind `state`.
    struct State {
        var pending: [Transfer] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
        var shutdown = false
        /// The multi handle is gone; `curl_multi_wakeup` must not be called any more.
        var closed = false
    }

    let state = Mutex(State())
    let maxInFlight: Int
    let multi: UnsafeMutableRawPointer
    var active: [UInt64: Transfer] = [:]
    var byHandle: [UnsafeMutableRawPointer: Transfer] = [:]

    init(maxInFlight: Int) {
        self.maxInFlight = maxInFlight
        multi = curl_multi_init()
    }

    func nextID() -> UInt64 {
        state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
    }

    func submit(_ transfer: Transfer) {
        let outcome: TransportError? = state.withLock { s in
            if s.shutdown { return TransportError(kind: .cancelled, curlCode: 0, message: "engine shut down") }
            // The cancellation handler may already have run and its id been drained by the curl thread; the
            // task's flag is set before the handler runs, so checking it here closes that window.
            if s.cancelled.remove(transfer.id) != nil || Task.isCancelled {
                return TransportError(kind: .cancelled, curlCode: 0, message: "cancelled")
            }
            s.pending.append(transfer)
            // Under the lock, so the curl thread cannot clean the multi handle up in between.
            curl_multi_wakeup(multi)
            return nil
        }
        if let outcome { transfer.resume(HTTPResult(error: outcome)) }
    }

    func cancel(_ id: UInt64) {
        let queued: Transfer? = state.withLock { s in
            if let index = s.pending.firstIndex(where: { $0.id == id }) {
                return s.pending.remove(at: index)
            }
            s.cancelled.insert(id)
            if !s.closed { curl_multi_wakeup(multi) }
            return nil
        }
        queued?.resume(HTTPResult(error: TransportError(kind: .cancelled, curlCode: 0, message: "cancelled")))
    }

    func shutdown() {
        state.withLock { s in
            s.shutdown = true
            if !s.closed { curl_multi_wakeup(multi) }
        }
    }

    // MARK: curl thread

    func run() {
        var running: Int32 = 0
        while true {
            let room = maxInFlight - active.count
            let (incoming, cancelled, stop) = state.withLock { s -> ([Transfer], Set<UInt64>, Bool) in
                let take = s.shutdown ? s.pending.count : min(max(room, 0), s.pending.count)
                let incoming = Array(s.pending.prefix(take))
                s.pending.removeFirst(take)
                let cancelled = s.cancelled
                s.cancelled = []
                return (incoming, cancelled, s.shutdown)
            }
            if stop {
                let error = TransportError(kind: .cancelled, curlCode: 0, message: "engine shut down")
                for transfer in incoming { transfer.resume(HTTPResult(error: error)) }
                for transfer in active.values { remove(transfer) }
                for transfer in active.values { transfer.resume(HTTPResult(error: error)) }
                active = [:]
                byHandle = [:]
                state.withLock { s in
                    s.closed = true
                    curl_multi_cleanup(multi)
                }
                return
            }
            for transfer in incoming { start(transfer) }
            for id in cancelled {
                guard let transfer = active.removeValue(forKey: id) else { continue }
                remove(transfer)
                transfer.resume(
                    HTTPResult(
                        timings: timings(of: transfer),
                        error: TransportError(kind: .cancelled, curlCode: 0, message: "cancelled")
                    )
                )
            }
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            var completed = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard zumik_curl_msg_is_done(msg) != 0, let easy = msg.pointee.easy_handle,
                    let transfer = byHandle[easy]
                else { continue }
                let code = zumik_curl_msg_result(msg)
                active.removeValue(forKey: transfer.id)
                let result = finish(transfer, code: code)
                remove(transfer)
                transfer.resume(result)
                completed += 1
            }
            // Finished transfers free slots: start queued requests at once rather than after the poll
            // times out (that wait, not the probes, made a 1,000-URL cycle take seconds).
            let queued = completed > 0 && state.withLock { !$0.pending.isEmpty }
            curl_multi_poll(multi, nil, 0, queued ? 0 : 1000, nil)
        }
    }

    private func remove(_ transfer: Transfer) {
        guard let easy = transfer.easy else { return }
        curl_multi_remove_handle(multi, easy)
        byHandle[easy] = nil
    }

    private func start(_ transfer: Transfer) {
        guard let easy = curl_easy_init() else {
            transfer.resume(
                HTTPResult(error: TransportError(kind: .other, curlCode: 0, message: "curl_easy_init failed"))
            )
            return
        }
        transfer.easy = easy
        let request = transfer.request
        let me = Unmanaged.passUnretained(transfer).toOpaque()
        var ok = true
        func check(_ code: CURLcode) { if code != CURLE_OK { ok = false } }
        check(zumik_curl_setopt_str(easy, CURLOPT_URL, request.url))
        check(zumik_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check(zumik_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer))
        check(zumik_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout.milliseconds))))
        check(
            zumik_curl_setopt_long(
                easy,
                CURLOPT_CONNECTTIMEOUT_MS,
                max(1, Int((request.connectTimeout ?? request.timeout).milliseconds))
            )
        )
        // Probes and API calls go straight to the target, never through an environment proxy.
        check(zumik_curl_setopt_str(easy, CURLOPT_PROXY, ""))
        check(zumik_curl_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        check(zumik_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0 ? 1 : 0))
        if request.maxRedirects > 0 {
            check(zumik_curl_setopt_long(easy, CURLOPT_MAXREDIRS, request.maxRedirects))
            check(zumik_curl_setopt_str(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        }
        check(zumik_curl_setopt_write(easy, curlWrite))
        check(zumik_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, me))
        check(zumik_curl_setopt_header(easy, curlHeader))
        check(zumik_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, me))
        if request.freshConnection {
            check(zumik_curl_setopt_long(easy, CURLOPT_FRESH_CONNECT, 1))
            check(zumik_curl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1))
            if request.url.lowercased().hasPrefix("https:") {
                check(zumik_curl_setopt_long(easy, CURLOPT_CERTINFO, 1))
            }
        }
        if let caFile = request.caFile { check(zumik_curl_setopt_str(easy, CURLOPT_CAINFO, caFile)) }
        let method = request.method.uppercased()
        switch method {
        case "GET": check(zumik_curl_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "HEAD": check(zumik_curl_setopt_long(easy, CURLOPT_NOBODY, 1))
        default:
            if method == "POST" || request.body != nil {
                check(zumik_curl_setopt_long(easy, CURLOPT_POST, 1))
                let body = request.body ?? []
                check(zumik_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                body.withUnsafeBytes { raw in
                    // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                    let base = raw.baseAddress ?? UnsafeRawPointer(transfer.errorBuffer)
                    check(
                        zumik_curl_setopt_ptr(
                            easy,
                            CURLOPT_COPYPOSTFIELDS,
                            UnsafeMutableRawPointer(mutating: base)
                        )
                    )
                }
            }
            if method != "POST" { check(zumik_curl_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method)) }
        }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        if request.body != nil, !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            list = curl_slist_append(list, "Expect:")
        }
        transfer.headerList = list
        if let list { check(zumik_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)) }
        guard ok else {
            transfer.resume(
                HTTPResult(
                    error: TransportError(
                        kind: .invalidRequest,
                        curlCode: 0,
                        message: "curl refused the request options for \(request.method) \(request.url)"
                    )
                )
            )
            return
        }
        active[transfer.id] = transfer
        byHandle[easy] = transfer
        curl_multi_add_handle(multi, easy)
    }

    private func timings(of transfer: Transfer) -> PhaseTimings {
        guard let easy = transfer.easy else { return PhaseTimings() }
        func ms(_ info: CURLINFO) -> Double {
            var value: curl_off_t = 0
            _ = zumik_curl_getinfo_off(easy, info, &value)
            return Double(value) / 1000
        }
        return PhaseTimings(
            dnsMs: ms(CURLINFO_NAMELOOKUP_TIME_T),
            connectMs: ms(CURLINFO_CONNECT_TIME_T),
            tlsMs: ms(CURLINFO_APPCONNECT_TIME_T),
            firstByteMs: ms(CURLINFO_STARTTRANSFER_TIME_T),
            totalMs: ms(CURLINFO_TOTAL_TIME_T)
        )
    }

    private func finish(_ transfer: Transfer, code: CURLcode) -> HTTPResult {
        guard let easy = transfer.easy else { return HTTPResult() }
        var status = 0
        _ = zumik_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var result = HTTPResult(
            status: status > 0 ? status : nil,
            headers: parseHeaders(transfer.headerLines),
            body: transfer.body,
            timings: timings(of: transfer)
        )
        if transfer.request.freshConnection {
            var raw: UnsafeMutableRawPointer? = nil
            if zumik_curl_getinfo_ptr(easy, CURLINFO_CERTINFO, &raw) == CURLE_OK, let raw {
                let info = raw.assumingMemoryBound(to: curl_certinfo.self)
                var line = zumik_curl_certinfo_lines(info, 0)
                while let node = line {
                    if let data = node.pointee.data {
                        let text = String(cString: data)
                        if text.hasPrefix("Expire date:") {
                            result.certificateExpiry = CertificateDate.parse(String(text.dropFirst(12)))
                        }
                    }
                    line = node.pointee.next
                }
            }
        }
        if code != CURLE_OK {
            let buffer = String(cString: transfer.errorBuffer)
            let text = buffer.isEmpty ? String(cString: curl_easy_strerror(code)) : buffer
            result.error = TransportError(
                kind: transfer.tooLarge ? .responseTooLarge : Self.kind(of: code),
                curlCode: Int(code.rawValue),
                message: transfer.tooLarge
                    ? "response body exceeds \(transfer.request.maxResponseBytes) bytes" : text
            )
        }
        return result
    }

    private func parseHeaders(_ lines: [String]) -> [(name: String, value: String)] {
        // Keep only the final response's header block (after redirects or 1xx responses).
        var fields: [(name: String, value: String)] = []
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("HTTP/") {
                fields = []
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let name = trimmed[..<colon].lowercased()
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            fields.append((name: name, value: value))
        }
        return fields
    }

    static func kind(of code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dns
        case CURLE_COULDNT_CONNECT: .connect
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS:
            .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        default: .other
        }
    }
}

/// libcurl's write/header callback arguments as the transfer they belong to and the bytes received;
/// `body` returns how many bytes it took (fewer aborts the transfer).
private func receive(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ user: UnsafeMutableRawPointer?,
    _ body: (Transfer, UnsafeBufferPointer<UInt8>) -> Int
) -> Int {
    guard let user, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
    let n = size * count
    return data.withMemoryRebound(to: UInt8.self, capacity: n) {
        body(transfer, UnsafeBufferPointer(start: $0, count: n))
    }
}

private let curlWrite: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    receive($0, $1, $2, $3) { transfer, bytes in
        if transfer.body.count + bytes.count > transfer.request.maxResponseBytes {
            transfer.tooLarge = true
            return 0
        }
        transfer.body.append(contentsOf: bytes)
        return bytes.count
    }
}

private let curlHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    receive($0, $1, $2, $3) { transfer, bytes in
        if transfer.headerLines.count < 200 { transfer.headerLines.append(String(decoding: bytes, as: UTF8.self)) }
        return bytes.count
    }
}

/// Parses OpenSSL's certificate date text as curl reports it: `Nov 28 23:59:52 2027 GMT`.
enum CertificateDate {
    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 4 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let month = months.firstIndex(of: String(parts[0])), let day = Int(parts[1]),
            let year = Int(parts[3])
        else { return nil }
        let hms = parts[2].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = month + 1
        components.day = day
        components.hour = hms[0]
        components.minute = hms[1]
        components.second = hms[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }
}
