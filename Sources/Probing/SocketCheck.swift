import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The TCP connect and DNS resolution checks: plain POSIX calls (`getaddrinfo`, a non-blocking `connect`
/// with `poll`) run on a thread of their own, so a slow resolver never blocks the cooperative pool.
enum SocketCheck {
    /// What a socket check found: the failure (nil when it passed) and how long it took.
    struct Outcome: Sendable {
        var error: TransportError?
        var totalMs: Double
        var addresses: [String] = []
    }

    /// Connects to `host:port` and closes at once: healthy when the connection is accepted within `timeout`.
    static func connect(host: String, port: Int, timeout: Duration) async -> Outcome {
        await onThread {
            let start = DispatchTime.now()
            let elapsed = { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 }
            let (infos, failure) = addresses(of: host, family: AF_UNSPEC, port: port)
            guard let infos else {
                return Outcome(error: TransportError(kind: .dns, curlCode: 0, message: failure), totalMs: elapsed())
            }
            defer { freeaddrinfo(infos) }
            var lastError = "no address for \(host)"
            var kind = TransportError.Kind.connect
            var info: UnsafeMutablePointer<addrinfo>? = infos
            while let current = info {
                info = current.pointee.ai_next
                let remaining = Double(timeout.milliseconds) - elapsed()
                guard remaining > 0 else {
                    kind = .timeout
                    lastError = "no connection to \(host):\(port) within \(timeout.milliseconds) ms"
                    break
                }
                let fd = socket(
                    current.pointee.ai_family,
                    Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                    0
                )
                guard fd >= 0 else { continue }
                defer { close(fd) }
                if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                    return Outcome(error: nil, totalMs: elapsed())
                }
                guard errno == EINPROGRESS else {
                    lastError = "connect to \(host):\(port): \(String(cString: strerror(errno)))"
                    continue
                }
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, Int32(remaining.rounded(.up)))
                if ready == 0 {
                    kind = .timeout
                    lastError = "no connection to \(host):\(port) within \(timeout.milliseconds) ms"
                    continue
                }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if ready > 0, soError == 0 { return Outcome(error: nil, totalMs: elapsed()) }
                kind = .connect
                lastError = "connect to \(host):\(port): \(String(cString: strerror(soError == 0 ? errno : soError)))"
            }
            return Outcome(error: TransportError(kind: kind, curlCode: 0, message: lastError), totalMs: elapsed())
        }
    }

    /// Resolves `name` to addresses of `recordType`; fails when there are none or an expected one is missing.
    static func resolve(_ name: String, recordType: DNSRecordType, expect: [String]) async -> Outcome {
        await onThread {
            let start = DispatchTime.now()
            let elapsed = { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6 }
            let family = recordType == .a ? AF_INET : AF_INET6
            let (infos, failure) = addresses(of: name, family: family, port: nil)
            guard let infos else {
                return Outcome(error: TransportError(kind: .dns, curlCode: 0, message: failure), totalMs: elapsed())
            }
            defer { freeaddrinfo(infos) }
            var found: [String] = []
            var info: UnsafeMutablePointer<addrinfo>? = infos
            while let current = info {
                info = current.pointee.ai_next
                if let text = numeric(current.pointee.ai_addr, current.pointee.ai_addrlen), !found.contains(text) {
                    found.append(text)
                }
            }
            let missing = expect.filter { !found.contains($0) }
            guard missing.isEmpty else {
                let message =
                    "\(name) \(recordType.rawValue) answered \(found.joined(separator: ", ")), expected \(expect.joined(separator: ", "))"
                return Outcome(
                    error: TransportError(kind: .dns, curlCode: 0, message: message),
                    totalMs: elapsed(),
                    addresses: found
                )
            }
            return Outcome(error: nil, totalMs: elapsed(), addresses: found)
        }
    }

    /// down on an error, degraded when slower than the target's `degradedMs`, healthy otherwise.
    static func classify(_ outcome: Outcome, target: ProbeTarget, now: Date) -> ProbeResult {
        var result = ProbeResult(
            property: target.name,
            url: target.url,
            at: now,
            health: .healthy,
            timings: PhaseTimings(totalMs: outcome.totalMs),
            error: outcome.error
        )
        if let error = outcome.error {
            result.health = .down
            switch error.kind {
            case .dns: result.reasons = ["DNS lookup failed: \(error.message)"]
            case .timeout: result.reasons = ["timed out: \(error.message)"]
            default: result.reasons = ["connection failed: \(error.message)"]
            }
        } else if outcome.totalMs > Double(target.degradedMs) {
            result.health = .degraded
            result.reasons = ["slow: \(Classifier.ms(outcome.totalMs)) > \(target.degradedMs) ms"]
        }
        return result
    }

    private static func addresses(of host: String, family: Int32, port: Int?) -> (
        UnsafeMutablePointer<addrinfo>?, String
    ) {
        var hints = addrinfo()
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var infos: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, port.map(String.init), &hints, &infos)
        guard code == 0, let infos else {
            return (nil, "cannot resolve \(host): \(String(cString: gai_strerror(code)))")
        }
        return (infos, "")
    }

    private static func numeric(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String? {
        guard let address else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func onThread(_ body: @escaping @Sendable () -> Outcome) async -> Outcome {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}
