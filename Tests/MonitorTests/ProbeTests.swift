import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// The curl engine and the classifier against real loopback servers.
@Suite struct ProbeTests {
    let engine = CurlEngine(maxInFlight: 64)

    func property(_ url: String, _ configure: (inout ProbeTarget) -> Void = { _ in }) -> ProbeTarget {
        var p = ProbeTarget(name: "test", url: url, timeout: .seconds(5), degradedMs: 2000)
        configure(&p)
        return p
    }

    @Test(.enabled(if: NginxServer.isAvailable, "nginx not installed at /usr/sbin/nginx"))
    func healthyAgainstRealNginx() async throws {
        let nginx = try NginxServer(locations: #"location / { return 200 "zumik ok\n"; }"#)
        defer { nginx.stop() }
        let result = await Prober(transport: engine).probe(
            property("\(nginx.baseURL)/healthz") { $0.bodyContains = "zumik ok" }
        )
        #expect(result.health == .healthy, "\(result.reasons)")
        #expect(result.status == 200)
        #expect(result.error == nil)
        #expect(result.timings.totalMs > 0)
        #expect(result.timings.connectMs <= result.timings.firstByteMs)
        #expect(result.timings.firstByteMs <= result.timings.totalMs)
    }

    @Test func slowAnswerIsDegraded() async throws {
        let server = try LoopbackServer { _ in .respond(status: 200, body: "ok", delay: 0.3) }
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(property(server.baseURL) { $0.degradedMs = 100 })
        #expect(result.health == .degraded)
        #expect(result.reasons.first?.hasPrefix("slow:") == true)
        #expect(result.timings.totalMs >= 300)
    }

    @Test func serverErrorIsDown() async throws {
        let server = try LoopbackServer { _ in .respond(status: 500, body: "boom") }
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(property(server.baseURL))
        #expect(result.health == .down)
        #expect(result.status == 500)
        #expect(result.reasons == ["unexpected status 500 (expected 200)"])
    }

    @Test func expectedStatusListIsHonoured() async throws {
        let server = try LoopbackServer { _ in .respond(status: 204) }
        defer { server.stop() }
        let ok = await Prober(transport: engine).probe(property(server.baseURL) { $0.expectedStatus = [200, 204] })
        #expect(ok.health == .healthy)
        let bad = await Prober(transport: engine).probe(property(server.baseURL))
        #expect(bad.health == .down)
    }

    @Test func missingBodyTextIsDown() async throws {
        let server = try LoopbackServer { _ in .respond(status: 200, body: "maintenance page") }
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(property(server.baseURL) { $0.bodyContains = "zumik ok" })
        #expect(result.health == .down)
        #expect(result.reasons == ["body does not contain the expected text"])
    }

    @Test func connectionResetIsDown() async throws {
        let server = try LoopbackServer { _ in .reset }
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(property(server.baseURL))
        #expect(result.health == .down)
        #expect(result.status == nil)
        let error = try #require(result.error)
        #expect(error.curlCode != 0)
        #expect(!error.message.isEmpty)
    }

    @Test func stoppedListeningIsDown() async throws {
        let port = try LoopbackServer.closedPort()
        let result = await Prober(transport: engine).probe(property("http://127.0.0.1:\(port)/"))
        #expect(result.health == .down)
        #expect(result.error?.kind == .connect)
        #expect(result.error?.curlCode == 7)
        #expect(result.reasons.first?.hasPrefix("connection failed") == true)
    }

    @Test func tlsStallTimesOut() async throws {
        let server = try LoopbackServer(.acceptAndStall)
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(
            property("https://127.0.0.1:\(server.port)/") { $0.timeout = .milliseconds(700) }
        )
        #expect(result.health == .down)
        #expect(result.error?.kind == .timeout)
        #expect(result.error?.curlCode == 28)
        #expect(result.timings.tlsMs == 0)
    }

    @Test func answerSlowerThanTimeoutIsDown() async throws {
        let server = try LoopbackServer { _ in .stall }
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(
            property(server.baseURL) { $0.timeout = .milliseconds(500) }
        )
        #expect(result.health == .down)
        #expect(result.error?.kind == .timeout)
        #expect(result.reasons.first?.hasPrefix("timed out") == true)
    }

    @Test func probesBypassTheCache() async throws {
        let seen = Mutex<[ReceivedRequest]>([])
        let server = try LoopbackServer { request in
            seen.withLock { $0.append(request) }
            return .respond(status: 200)
        }
        defer { server.stop() }
        let prober = Prober(transport: engine)
        _ = await prober.probe(property("\(server.baseURL)/v2/status?x=1"))
        _ = await prober.probe(property("\(server.baseURL)/v2/status?x=1"))
        let requests = seen.withLock { $0 }
        #expect(requests.count == 2)
        for request in requests {
            #expect(request.target.hasPrefix("/v2/status?x=1&zumik_probe="))
            #expect(request.headers["cache-control"] == "no-cache")
            #expect(request.headers["pragma"] == "no-cache")
        }
        #expect(requests.count == 2 && requests[0].target != requests[1].target)
    }

    @Test func transportSendsMethodHeadersAndBody() async throws {
        let seen = Mutex<ReceivedRequest?>(nil)
        let server = try LoopbackServer { request in
            seen.withLock { $0 = request }
            return .respond(status: 201, headers: [("X-Reply", "yes")], body: #"{"ok":true}"#)
        }
        defer { server.stop() }
        let result = await engine.send(
            HTTPRequest(
                method: "POST",
                url: "\(server.baseURL)/hook",
                headers: [(name: "Content-Type", value: "application/json")],
                body: Array(#"{"a":1}"#.utf8)
            )
        )
        #expect(result.status == 201)
        #expect(result.header("x-reply") == "yes")
        #expect(result.bodyText == #"{"ok":true}"#)
        let request = try #require(seen.withLock { $0 })
        #expect(request.method == "POST")
        #expect(request.target == "/hook")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.bodyText == #"{"a":1}"#)
    }

    @Test func oversizedBodyFailsWithClearError() async throws {
        let server = try LoopbackServer { _ in .respond(status: 200, body: String(repeating: "x", count: 10_000)) }
        defer { server.stop() }
        let result = await engine.send(HTTPRequest(url: server.baseURL, maxResponseBytes: 1000))
        #expect(result.error?.kind == .responseTooLarge)
        #expect(result.error?.message == "response body exceeds 1000 bytes")
    }

    @Test func malformedURLIsAnErrorNotACrash() async {
        let result = await engine.send(HTTPRequest(url: "http://[::1"))
        #expect(result.status == nil)
        #expect(result.error != nil)
    }

    @Test func cancellationResumesPromptly() async throws {
        let server = try LoopbackServer { _ in .stall }
        defer { server.stop() }
        let engine = self.engine
        let task = Task { await engine.send(HTTPRequest(url: server.baseURL, timeout: .seconds(60))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.value
        #expect(result.error?.kind == .cancelled)
        // The engine keeps working after a cancellation.
        let port = try LoopbackServer.closedPort()
        let after = await engine.send(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        #expect(after.error?.kind == .connect)
    }

    @Test func cancelledBeforeSubmitNeverRuns() async throws {
        let hits = Mutex(0)
        let server = try LoopbackServer { _ in
            hits.withLock { $0 += 1 }
            return .respond(status: 200)
        }
        defer { server.stop() }
        let engine = self.engine
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await engine.send(HTTPRequest(url: server.baseURL))
        }
        let result = await task.value
        #expect(result.error?.kind == .cancelled)
        #expect(hits.withLock { $0 } == 0)
    }

    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "needs nginx and openssl"))
    func certificateWithinWarningWindowIsExpiringNotDegraded() async throws {
        let shortLived = try SelfSignedCertificate(days: 5)
        defer { shortLived.remove() }
        let nginx = try NginxServer(
            locations: #"location / { return 200 "ok"; }"#,
            tls: (cert: shortLived.certPath, key: shortLived.keyPath)
        )
        defer { nginx.stop() }
        let prober = Prober(transport: engine, certWarningDays: 14)
        let result = await prober.probe(property(nginx.baseURL) { $0.caFile = shortLived.certPath })
        #expect(result.status == 200)
        // Issue 15: an expiring certificate is its own state (warned about daily), not a degraded answer.
        #expect(result.health == .healthy, "\(result.reasons) \(String(describing: result.error))")
        #expect(result.certificate?.state == .expiring)
        #expect(result.certificate?.daysLeft == 4)
        #expect(result.certificate?.warningDays == 14)
        let expiry = try #require(result.certificateExpiry)
        let days = expiry.timeIntervalSinceNow / 86_400
        #expect(days > 4 && days < 6)
        #expect(result.timings.tlsMs > 0)

        // The same server is healthy when the warning window is shorter than the remaining validity.
        let relaxed = await Prober(transport: engine, certWarningDays: 3).probe(
            property(nginx.baseURL) { $0.caFile = shortLived.certPath }
        )
        #expect(relaxed.health == .healthy)
        #expect(relaxed.certificate?.state == .ok)
    }

    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "needs nginx and openssl"))
    func untrustedCertificateIsDown() async throws {
        let cert = try SelfSignedCertificate(days: 30)
        defer { cert.remove() }
        let nginx = try NginxServer(
            locations: #"location / { return 200 "ok"; }"#,
            tls: (cert.certPath, cert.keyPath)
        )
        defer { nginx.stop() }
        let result = await Prober(transport: engine).probe(property(nginx.baseURL))
        #expect(result.health == .down)
        #expect(result.error?.kind == .tls)
    }

    @Test(.enabled(if: NginxServer.isAvailable, "nginx not installed at /usr/sbin/nginx"))
    func thousandURLsInOneCycle() async throws {
        let nginx = try NginxServer(locations: #"location / { return 200 "ok $uri"; }"#)
        defer { nginx.stop() }
        let properties = (0..<1000).map { i in
            ProbeTarget(
                name: "p\(i)",
                url: "\(nginx.baseURL)/item/\(i)",
                bodyContains: "ok /item/\(i)",
                timeout: .seconds(30),
                degradedMs: 30_000
            )
        }
        let results = await Prober(transport: engine).probeAll(properties)
        #expect(results.count == 1000)
        #expect(Set(results.map(\.property)).count == 1000)
        for (property, result) in zip(properties, results) {
            #expect(result.property == property.name)
            #expect(result.health == .healthy, "\(property.name): \(result.reasons)")
        }
    }
}

@Suite struct CurlEngineLimitTests {
    @Test func transfersInFlightNeverExceedTheCap() async throws {
        let counts = Mutex((now: 0, peak: 0))
        let server = try LoopbackServer { _ in
            counts.withLock { c in
                c.now += 1
                c.peak = max(c.peak, c.now)
            }
            Thread.sleep(forTimeInterval: 0.05)
            counts.withLock { $0.now -= 1 }
            return .respond(status: 200, body: "ok")
        }
        defer { server.stop() }
        let engine = CurlEngine(maxInFlight: 3)
        let statuses = await withTaskGroup(of: Int?.self) { group in
            for i in 0..<24 {
                group.addTask {
                    await engine.send(HTTPRequest(url: "\(server.baseURL)/\(i)", freshConnection: true)).status
                }
            }
            var all: [Int?] = []
            for await status in group { all.append(status) }
            return all
        }
        #expect(statuses.count == 24)
        #expect(statuses.allSatisfy { $0 == 200 })
        let peak = counts.withLock { $0.peak }
        #expect(peak <= 3)
        #expect(peak >= 1)
    }

    @Test func shutdownResumesEveryWaiterAndRefusesNewWork() async throws {
        let server = try LoopbackServer { _ in .stall }
        defer { server.stop() }
        let engine = CurlEngine(maxInFlight: 2)
        await withTaskGroup(of: TransportError.Kind?.self) { group in
            for _ in 0..<5 {
                group.addTask { await engine.send(HTTPRequest(url: server.baseURL, timeout: .seconds(60))).error?.kind }
            }
            try? await Task.sleep(for: .milliseconds(200))
            engine.shutdown()
            var kinds: [TransportError.Kind?] = []
            for await kind in group { kinds.append(kind) }
            #expect(kinds.count == 5)
            #expect(kinds.allSatisfy { $0 == .cancelled })
        }
        let after = await engine.send(HTTPRequest(url: server.baseURL))
        #expect(after.error?.kind == .cancelled)
        #expect(after.error?.message == "engine shut down")
    }
}
