import Foundation
import Logging
import Monitor
import Probing
import ServiceLifecycle
import Synchronization
import Testing
import ZumikTestSupport

/// A loopback property whose answer the test flips, counting requests.
final class FlakyProperty: Sendable {
    final class State: Sendable {
        let lock = Mutex((status: 200, hits: 0))
    }

    let state: State
    let server: LoopbackServer

    init() throws {
        let state = State()
        self.state = state
        server = try LoopbackServer { _ in
            let code = state.lock.withLock { s in
                s.hits += 1
                return s.status
            }
            return .respond(status: code, body: "ok")
        }
    }

    func set(_ code: Int) { state.lock.withLock { $0.status = code } }
    var count: Int { state.lock.withLock { $0.hits } }
}

/// Records every call; optionally heals the property and re-probes, as issue 5's remediation would.
final class RecordingResponder: IncidentResponder {
    let calls = Mutex<[IncidentContext]>([])
    let heal: FlakyProperty?
    let reprobed = Mutex<[ProbeResult]>([])
    /// Awaited before healing.
    let before: @Sendable (IncidentContext) async -> Void

    init(heal: FlakyProperty? = nil, after before: @escaping @Sendable (IncidentContext) async -> Void = { _ in }) {
        self.heal = heal
        self.before = before
    }

    func incidentOpened(_ context: IncidentContext) async {
        calls.withLock { $0.append(context) }
        guard let heal else { return }
        await before(context)
        heal.set(200)
        if let result = await context.reprobe(context.property.name) {
            reprobed.withLock { $0.append(result) }
        }
    }
}

/// Polls `condition` (an error counts as false) until it holds or a generous timeout passes.
func waitFor(_ timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if (try? condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? condition()) == true
}

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

@Suite struct MonitorServiceTests {
    @Test(.enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing"))
    func blipIgnoredIncidentOpensOnConfirmationProbeAndRecovers() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(100),
            storePath: dir.dbPath,
            retryBase: .milliseconds(20),
            properties: [PropertyConfig(name: "api", url: "\(api.server.baseURL)/healthz", timeout: .seconds(5))],
            secrets: Secrets(discordWebhookURL: Secret(discord.webhookURL))
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger)
        let store = runtime.store
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            // The first regular probe runs at start.
            #expect(await waitFor { try store.state(of: "api")?.lastResult != nil })
            #expect(try! store.state(of: "api")?.health == .healthy)

            // A blip: one failure, then the confirmation probe finds it healthy. Nothing is alerted.
            api.set(500)
            let blip = await runtime.monitor.checkNow()
            #expect(blip.first?.health == .down)
            api.set(200)
            #expect(await waitFor { api.count >= 3 })
            #expect(await waitFor { try store.state(of: "api")?.consecutiveFailures == 0 })
            #expect(try! store.allOutbox().isEmpty)
            #expect(try! store.incidents().isEmpty)

            // A real outage: one failure, and the confirmation probe (not a second regular cycle) opens it.
            api.set(500)
            let before = api.count
            _ = await runtime.monitor.checkNow()
            #expect(await waitFor { try store.openIncident(for: "api") != nil })
            #expect(api.count == before + 2)
            // The incident's living message is created (`?wait=true`).
            #expect(await discord.waitUntil { _ in discord.posts.count == 1 })

            // Recovery closes the incident with its duration.
            api.set(200)
            let healed = await runtime.monitor.checkNow()
            #expect(healed.first?.health == .healthy)
            // announced in a post of its own, and the incident's message edited to say so.
            #expect(await discord.waitUntil { _ in discord.posts.count == 2 })
            #expect(await discord.waitUntil { $0.contains { $0.request.method == "PATCH" } })
            group.cancelAll()
        }
        let delivered = discord.posts
        #expect(delivered.count == 2)
        #expect(discord.records.map(\.request.method) == ["POST", "POST", "PATCH"])
        for record in discord.records { #expect(record.validationError == nil, "\(record.validationError ?? "")") }
        let embeds = delivered.compactMap { ($0.json?["embeds"] as? [[String: Any]])?.first }
        #expect(embeds.map { $0["title"] as? String } == ["api is DOWN", "api recovered (was down)"])
        let incident = try #require(try store.incidents(for: "api").first)
        #expect(incident.closedAt != nil)
        let recoveryFields = (embeds.last?["fields"] as? [[String: Any]]) ?? []
        #expect(recoveryFields.contains { $0["name"] as? String == "Duration" })
        #expect(
            recoveryFields.contains {
                $0["name"] as? String == "Incident" && $0["value"] as? String == "#\(incident.id)"
            }
        )
        let downFields = (embeds.first?["fields"] as? [[String: Any]]) ?? []
        #expect(downFields.contains { $0["name"] as? String == "Status" && $0["value"] as? String == "500" })
        #expect(downFields.contains { ($0["value"] as? String)?.contains("first byte") == true })
        #expect(embeds.first?["color"] as? Int == AlertFormatter.red)
        #expect(embeds.last?["color"] as? Int == AlertFormatter.green)
    }

    @Test func responderIsCalledOnceForRemediableDownPropertyAndCanReprobe() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        let docs = try FlakyProperty()
        defer {
            api.server.stop()
            docs.server.stop()
        }
        api.set(503)
        docs.set(503)
        let responder = RecordingResponder(heal: api)
        let lines = Mutex<[String]>([])
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(50),
            storePath: dir.dbPath,
            properties: [
                PropertyConfig(name: "api", url: api.server.baseURL, host: "default", service: "api-core"),
                PropertyConfig(name: "docs", url: docs.server.baseURL, alertOnly: true, host: "default"),
            ],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger, responder: responder) { line in
            lines.withLock { $0.append(line) }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { responder.reprobed.withLock { $0.count } == 1 })
            // api's and docs' incident messages, api's recovery, and api's message printed again, edited.
            #expect(await waitFor { lines.withLock { $0.count } == 4 })
            group.cancelAll()
        }
        let calls = responder.calls.withLock { $0 }
        #expect(calls.map(\.property.name) == ["api"])
        #expect(calls.first?.resumed == false)
        #expect(calls.first?.host.name == "default")
        #expect(calls.first?.result.health == .down)
        #expect(responder.reprobed.withLock { $0.first?.health } == .healthy)
        #expect(try runtime.store.openIncident(for: "api") == nil)
        #expect(try runtime.store.openIncident(for: "docs") != nil)
        let text = lines.withLock { $0.joined(separator: "\n") }
        #expect(text.contains("api is DOWN"))
        #expect(text.contains("api recovered (was down)"))
        #expect(text.contains("docs is DOWN"))
    }

    @Test func openIncidentIsResumedAfterRestart() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let t0 = Date()
        let store = try MonitorStore(path: dir.dbPath)
        for i in 0..<2 {
            let result = ProbeResult(property: "api", url: api.server.baseURL, at: t0, health: .down, status: 500)
            _ = try await store.record(
                result,
                policy: Debounce.Policy(),
                now: t0.addingTimeInterval(Double(i)),
                message: AlertFormatter.message(for:)
            )
        }
        let incident = try #require(try store.openIncident(for: "api"))
        let responder = RecordingResponder()
        let config = MonitorConfig(
            interval: .seconds(3600),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, host: "default", service: "api-core")],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger, responder: responder) { _ in }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { responder.calls.withLock { $0.count } >= 1 })
            #expect(await waitFor { api.count >= 1 })
            group.cancelAll()
        }
        let calls = responder.calls.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.resumed == true)
        #expect(calls.first?.incidentID == incident.id)
        // The restart itself alerted nothing new: still only the original DOWN row.
        #expect(try runtime.store.allOutbox().count == 1)
    }

    @Test func silencedPropertyIsProbedButNotAlertedUntilSilenceEnds() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let responder = RecordingResponder()
        let lines = Mutex<[String]>([])
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(50),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, host: "default", service: "api-core")],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger, responder: responder) { line in
            lines.withLock { $0.append(line) }
        }
        try await runtime.monitor.silence("api", until: Date().addingTimeInterval(3600))
        api.set(500)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { try runtime.store.state(of: "api")?.health == .down })
            #expect(try! runtime.store.allOutbox().isEmpty)
            #expect(responder.calls.withLock { $0.isEmpty })
            await runtime.monitor.unsilence("api")
            #expect(await waitFor { lines.withLock { $0.count } == 1 })
            #expect(await waitFor { responder.calls.withLock { $0.count } == 1 })
            group.cancelAll()
        }
        #expect(lines.withLock { $0.first?.contains("state changed during maintenance") } == true)
        #expect(try runtime.store.allOutbox().count == 1)
    }
}

@Suite struct ShutdownTests {
    @Test func serviceGroupShutsDownGracefully() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let config = MonitorConfig(
            interval: .seconds(3600),
            storePath: dir.dbPath,
            controlPort: 0,
            properties: [PropertyConfig(name: "api", url: api.server.baseURL)]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger) { _ in }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: runtime.sender), .init(service: runtime.monitor),
                    .init(service: runtime.controlApplication()),
                ],
                logger: quietLogger
            )
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await waitFor { try runtime.store.state(of: "api") != nil })
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        #expect(try runtime.store.state(of: "api")?.health == .healthy)
    }
}

@Suite struct ThousandPropertiesTests {
    @Test(.enabled(if: NginxServer.isAvailable, "nginx not installed at /usr/sbin/nginx"))
    func oneCycleOverThousandURLsRecordsEveryResult() async throws {
        let nginx = try NginxServer(locations: #"location / { return 200 "ok $uri"; }"#)
        defer { nginx.stop() }
        let dir = try TempDir()
        let properties = (0..<1000).map { i in
            PropertyConfig(
                name: "p\(i)",
                url: "\(nginx.baseURL)/item/\(i)",
                bodyContains: "ok /item/\(i)",
                timeout: .seconds(30),
                degradedMs: 30_000
            )
        }
        let config = MonitorConfig(interval: .seconds(3600), storePath: dir.dbPath, properties: properties)
        let runtime = try MonitorRuntime(config: config, logger: quietLogger) { _ in }
        let results = await runtime.monitor.checkNow()
        #expect(results.count == 1000)
        #expect(results.map(\.property) == properties.map(\.name))
        #expect(results.allSatisfy { $0.health == .healthy })
        let states = try runtime.store.allStates()
        #expect(states.count == 1000)
        #expect(states.allSatisfy { $0.lastResult?.status == 200 })
        #expect(try runtime.store.allOutbox().isEmpty)
    }
}

@Suite struct DegradedPathTests {
    /// healthy → degraded (slow) → down (500) → degraded → healthy, each alerted once, with the state's colour.
    @Test func everyStateChangeIsAlertedOnce() async throws {
        let dir = try TempDir()
        let mode = Mutex((status: 200, delay: 0.0))
        let server = try LoopbackServer { _ in
            let m = mode.withLock { $0 }
            return .respond(status: m.status, body: "ok", delay: m.delay)
        }
        defer { server.stop() }
        let lines = Mutex<[String]>([])
        var config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: nil,
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "web", url: server.baseURL, timeout: .seconds(5), degradedMs: 150)]
        )
        // One post per transition (`discord.edit_messages: false`); IncidentMessageTests covers the edits.
        config.onCall.editMessages = false
        let runtime = try MonitorRuntime(config: config, logger: quietLogger) { line in
            lines.withLock { $0.append(line) }
        }
        func cycles(_ n: Int, status: Int, delay: Double) async -> [Health] {
            mode.withLock { $0 = (status, delay) }
            var seen: [Health] = []
            for _ in 0..<n { seen += await runtime.monitor.checkNow().map(\.health) }
            return seen
        }
        #expect(await cycles(1, status: 200, delay: 0) == [.healthy])
        #expect(await cycles(2, status: 200, delay: 0.3) == [.degraded, .degraded])
        #expect(await cycles(2, status: 500, delay: 0) == [.down, .down])
        #expect(await cycles(2, status: 200, delay: 0.3) == [.degraded, .degraded])
        #expect(await cycles(1, status: 200, delay: 0) == [.healthy])
        let rows = try runtime.store.allOutbox()
        let titles = rows.compactMap { row -> String? in
            let json = try? JSONSerialization.jsonObject(with: Data(row.payload.utf8)) as? [String: Any]
            return ((json?["embeds"] as? [[String: Any]])?.first?["title"]) as? String
        }
        #expect(
            titles == [
                "web is DEGRADED", "web is DOWN (was degraded)", "web is DEGRADED (was down)",
                "web recovered (was degraded)",
            ]
        )
        let colours = rows.compactMap { row -> Int? in
            let json = try? JSONSerialization.jsonObject(with: Data(row.payload.utf8)) as? [String: Any]
            return ((json?["embeds"] as? [[String: Any]])?.first?["color"]) as? Int
        }
        #expect(colours == [AlertFormatter.amber, AlertFormatter.red, AlertFormatter.amber, AlertFormatter.green])
        // One incident spans the whole episode.
        #expect(try runtime.store.incidents(for: "web").count == 1)
        #expect(Set(rows.compactMap(\.incidentID)).count == 1)
    }
}

@Suite struct SilenceExpiryTests {
    @Test func expiredSilenceAnnouncesTheChangedStateOnce() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let lines = Mutex<[String]>([])
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(20),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, alertOnly: true)]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger) { line in
            lines.withLock { $0.append(line) }
        }
        try await runtime.monitor.silence("api", until: Date().addingTimeInterval(3))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { try runtime.store.state(of: "api")?.health == .down })
            #expect(lines.withLock { $0.isEmpty })
            // After the silence expires (no explicit unsilence) the down state is announced once.
            #expect(await waitFor { lines.withLock { $0.count } == 1 })
            #expect(await waitFor { try runtime.store.state(of: "api")?.silencedUntil == nil })
            group.cancelAll()
        }
        #expect(lines.withLock { $0.first?.contains("api is DOWN") } == true)
        #expect(try runtime.store.allOutbox().count == 1)
    }
}
