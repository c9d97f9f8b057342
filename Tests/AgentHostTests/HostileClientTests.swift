import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #12, findings 4 and 9, against the real agent binary: idle and slow sockets cannot
/// starve it, and forwarded addresses are believed only on nginx's Unix socket.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct HostileClientTests {
    static let manifest = testManifest(bundleID: "ai.zumik.nginx", actions: [("noop", "true", 10, "noop")])

    /// 5,000 half-open connections (connected, nothing sent) with the agent at the shipped
    /// unit's old fd limit (4,096): `/healthz` is still answered within a second.
    @Test func fiveThousandIdleConnectionsLeaveHealthzServed() async throws {
        // The agent gets the old unit's limit; this process needs room for 5,000 sockets.
        let agent = try await withFileLimit(4096) {
            try await BinaryAgent(bundles: [(name: "noop", manifest: Self.manifest, plugin: "NginxActions")])
        }
        do {
            try await idleConnectionsScenario(agent)
        } catch {
            await agent.stop()
            throw error
        }
        await agent.stop()
    }

    private func idleConnectionsScenario(_ agent: BinaryAgent) async throws {
        try raiseFileLimit(to: 12_000)
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for index in 0..<5000 {
            sockets.append(try halfOpenConnection(port: agent.port))
            // In batches, as a client that waits for its handshakes would.
            if index % 100 == 99 { try await Task.sleep(for: .milliseconds(20)) }
        }
        // Every handshake completes (some SYNs wait for a retransmit while the backlog is full).
        let connected = waitUntilConnected(sockets, within: .seconds(30))
        print("idle connections established: \(connected) of \(sockets.count)")
        #expect(connected == sockets.count)
        // And the agent has accepted every one of them (its listen queue is empty again).
        let drainStart = ContinuousClock.now
        var drained = false
        while !drained, ContinuousClock.now - drainStart < .seconds(20) {
            drained = acceptQueueLength(port: agent.port) == 0
            if !drained { try await Task.sleep(for: .milliseconds(50)) }
        }
        print("agent accepted the flood \(drained ? "after" : "NOT within") \(ContinuousClock.now - drainStart)")
        #expect(drained, "the agent stopped accepting connections")
        let start = ContinuousClock.now
        let health = try await withDeadline(.seconds(5)) { try await RawHTTP.get(port: agent.port, "/healthz") }
        let elapsed = ContinuousClock.now - start
        print("5,000 idle connections: /healthz answered \(health?.status ?? 0) in \(elapsed)")
        #expect(health?.status == 200)
        #expect(elapsed < .seconds(1))
        // The agent holds at most its connection cap (1024 by default), not 5,000 descriptors.
        let descriptors =
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(agent.process.pid)/fd"))?
            .count ?? 0
        print("agent descriptors with 5,000 idle connections: \(descriptors)")
        #expect(descriptors < 1024 + 100)
        let catalog = try await withDeadline(.seconds(5)) { try await agent.get("/v1/actions") }
        #expect(catalog?.status == 200)
    }

    /// A client that trickles its request head (or sends nothing) is cut at the header timeout.
    @Test func slowHeaderClientsAreCut() async throws {
        try await BinaryAgent.with(
            bundles: [(name: "noop", manifest: Self.manifest, plugin: "NginxActions")],
            extraArguments: ["--header-timeout", "1"]
        ) { agent in
            let silent = try halfOpenConnection(port: agent.port, blocking: true)
            defer { close(silent) }
            let slow = try halfOpenConnection(port: agent.port, blocking: true)
            defer { close(slow) }
            let start = ContinuousClock.now
            let trickle = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8)
            var cutAfter: Duration?
            for byte in trickle {
                var one = byte
                if Glibc.send(slow, &one, 1, Int32(MSG_NOSIGNAL)) != 1 || peerClosed(slow, waitMilliseconds: 0) {
                    cutAfter = ContinuousClock.now - start
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            print("slow header client cut after \(String(describing: cutAfter))")
            let cut = try #require(cutAfter, "the trickling client was never cut")
            #expect(cut >= .milliseconds(900) && cut < .seconds(3))
            #expect(peerClosed(silent, waitMilliseconds: 3000), "a client that sent nothing is cut too")
            // A normal client is unaffected.
            #expect(try await RawHTTP.get(port: agent.port, "/healthz").status == 200)
        }
    }

    /// Finding 9 over TCP: rotating `X-Forwarded-For` neither escapes the per-IP limit nor
    /// changes the audited `client_ip`; on the Unix socket (nginx's) the forwarded address counts.
    @Test func forwardedAddressSpoofOverTCPIsRefused() async throws {
        let work = try TempDir("zumik-xff")
        defer { work.remove() }
        let socket = work.file("agent.sock")
        try await BinaryAgent.with(
            bundles: [(name: "noop", manifest: Self.manifest, plugin: "NginxActions")],
            extraArguments: [
                "--unix-socket", socket, "--rate-limit-burst", "3", "--rate-limit-per-second", "0.001",
            ]
        ) { agent in
            var statuses: [Int] = []
            for n in 1...5 {
                let response = try await RawHTTP.send(
                    port: agent.port,
                    method: "POST",
                    path: "/v1/actions/noop/run",
                    headers: [("Authorization", "Bearer \(BinaryAgent.token)"), ("X-Forwarded-For", "203.0.113.\(n)")]
                )
                statuses.append(response.status)
            }
            #expect(statuses == [200, 200, 200, 429, 429], "same bucket whatever X-Forwarded-For says")
            let tcpClients = Set(try agent.auditRecords().compactMap { $0["client_ip"] as? String })
            #expect(tcpClients == ["127.0.0.1"], "the real peer is audited")

            // nginx's channel: the forwarded address is the client (its own bucket, its own audit).
            let viaSocket = try await UnixHTTP.send(
                path: socket,
                method: "POST",
                target: "/v1/actions/noop/run",
                headers: [("Authorization", "Bearer \(BinaryAgent.token)"), ("X-Forwarded-For", "198.51.100.23")]
            )
            #expect(viaSocket.status == 200, "\(viaSocket.text)")
            #expect(try agent.auditRecords().last?["client_ip"] as? String == "198.51.100.23")
        }
    }
}

/// A TCP connection to 127.0.0.1:`port` that sends nothing. Non-blocking connects do not wait
/// for the agent to accept (the kernel completes the handshake into the listen backlog).
func halfOpenConnection(port: Int, blocking: Bool = false) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | (blocking ? 0 : Int32(SOCK_NONBLOCK.rawValue)), 0)
    guard fd >= 0 else { throw RawHTTPError(message: "socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 || errno == EINPROGRESS else {
        let code = errno
        close(fd)
        throw RawHTTPError(message: "connect: errno \(code)")
    }
    return fd
}

/// Connections waiting in the accept queue of the IPv4 listener on `port` (`rx_queue` of the
/// LISTEN entry in /proc/net/tcp), or nil when there is no such listener.
func acceptQueueLength(port: Int) -> Int? {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
    let local = String(format: ":%04X", port)
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        guard fields.count > 4, fields[1].hasSuffix(local), fields[3] == "0A" else { continue }
        let queues = fields[4].split(separator: ":")
        return queues.count == 2 ? Int(queues[1], radix: 16) : nil
    }
    return nil
}

/// How many of `sockets` (non-blocking, connecting) completed their handshake within `limit`.
func waitUntilConnected(_ sockets: [Int32], within limit: Duration) -> Int {
    var pending = Set(sockets)
    var connected = 0
    let deadline = ContinuousClock.now + limit
    while !pending.isEmpty, ContinuousClock.now < deadline {
        var pollers = pending.map { pollfd(fd: $0, events: Int16(POLLOUT), revents: 0) }
        guard poll(&pollers, nfds_t(pollers.count), 200) > 0 else { continue }
        for poller in pollers where poller.revents != 0 {
            pending.remove(poller.fd)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(poller.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 { connected += 1 }
        }
    }
    return connected
}

/// Whether the server closed `fd` (a read would return end-of-file or reset), waiting at most
/// `waitMilliseconds` for it.
func peerClosed(_ fd: Int32, waitMilliseconds: Int32) -> Bool {
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, waitMilliseconds) == 1 else { return false }
    var byte: UInt8 = 0
    let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
    return count == 0 || (count < 0 && errno != EAGAIN)
}

/// Runs `body` with this process's soft descriptor limit at `limit` (children started in it inherit it).
func withFileLimit<T>(_ limit: rlim_t, _ body: () async throws -> T) async throws -> T {
    var saved = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
    var lowered = saved
    lowered.rlim_cur = min(limit, saved.rlim_max)
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered)
    defer { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
    return try await body()
}

/// Raises this process's soft descriptor limit (the test opens thousands of sockets).
func raiseFileLimit(to wanted: rlim_t) throws {
    var limits = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
    guard limits.rlim_max >= wanted else {
        throw RawHTTPError(message: "the hard descriptor limit \(limits.rlim_max) is under \(wanted)")
    }
    limits.rlim_cur = max(limits.rlim_cur, wanted)
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits)
}

/// `body`'s result, or nil when it has not finished within `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
