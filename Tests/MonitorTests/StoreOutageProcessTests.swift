import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// The real `zumik-monitor` on `store: postgres` when PostgreSQL cannot be reached (issue 13, "the database
/// unreachable"): it keeps probing, says so in `/healthz`, `/v1/status` and `/metrics`, posts one direct
/// "monitoring degraded" message per outage, and recovers by itself without a lost or duplicated alert.
@Suite(
    .enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"),
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
    .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
)
struct StoreOutageProcessTests {
    /// A monitor probing `target` every second on the PostgreSQL at `databaseURL`, posting to `discord`.
    struct Setup {
        let dir: TempDir
        let config: String
        let environment: [String: String]
        let controlPort: Int

        init(target: String, databaseURL: String, discord: FakeDiscord) throws {
            dir = try TempDir()
            controlPort = try LoopbackServer.freePort()
            config = dir.url.appendingPathComponent("monitor.yaml").path
            try """
            interval: 1s
            confirmation_delay: 0
            failure_threshold: 2
            success_threshold: 2
            store: postgres
            location: edge-a
            store_outage:
              notify_after: 3s
              connection_wait: 2s
            control:
              listen: 127.0.0.1:\(controlPort)
            discord:
              retry_base_ms: 50
              retry_max_ms: 500
              edit_messages: false
            properties:
              - name: api
                url: \(target)
                timeout: 2s
            """.write(toFile: config, atomically: true, encoding: .utf8)
            environment = [
                "PATH": "/usr/bin:/bin", "ZUMIK_DATABASE_URL": databaseURL,
                "DISCORD_WEBHOOK_URL": discord.webhookURL,
            ]
        }

        func start() throws -> MonitorProcess {
            try MonitorProcess(
                config: config,
                environment: environment,
                log: dir.url.appendingPathComponent("monitor.log").path
            )
        }

        func get(_ path: String) async throws -> RawHTTPResponse { try await RawHTTP.get(port: controlPort, path) }
    }

    /// Every post Discord took, by what it says: `down`, `recovered`, `degraded`, `restored`, or its title.
    static func kinds(_ discord: FakeDiscord) -> [String] {
        discord.posts.map { record in
            let embeds = record.json?["embeds"] as? [[String: Any]] ?? []
            let title = embeds.first?["title"] as? String ?? record.json?["content"] as? String ?? ""
            if title.hasPrefix("Monitoring degraded") { return "degraded" }
            if title.hasPrefix("Monitoring restored") { return "restored" }
            if title == "api is DOWN" { return "down" }
            if title.hasPrefix("api recovered") { return "recovered" }
            return title
        }
    }

    static func count(_ kind: String, _ discord: FakeDiscord) -> Int { kinds(discord).filter { $0 == kind }.count }

    /// Polls `condition` (an error counts as false) every 100 ms until it holds or `timeout` passes.
    static func eventually(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return (try? await condition()) == true
    }

    @Test func aDatabaseNobodyAnswersIsReportedWhileProbesGoOnAndOneDegradedMessageIsPosted() async throws {
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        // Nothing listens there: every connection is refused.
        let password = "s3cret-\(UUID().uuidString.prefix(8))"
        let port = try LoopbackServer.freePort()
        let setup = try Setup(
            target: "\(api.server.baseURL)/healthz",
            databaseURL: "postgres://zumik:\(password)@127.0.0.1:\(port)/zumik?sslmode=disable",
            discord: discord
        )
        let monitor = try setup.start()
        defer { monitor.terminate() }

        var health: [String: Any] = [:]
        #expect(
            await Self.eventually {
                let reply = try await setup.get("/healthz")
                health = try reply.json()
                return reply.status == 503
            },
            "\(monitor.logText.suffix(3000))"
        )
        #expect(health["status"] as? String == "store_unreachable")
        #expect((health["problem"] as? String)?.hasPrefix("store unreachable since ") == true, "\(health)")
        let store = try #require(health["store"] as? [String: Any])
        #expect(store["backend"] as? String == "postgres")
        #expect(store["reachable"] as? Bool == false)
        #expect(store["since"] is String)
        #expect(store["error"] as? String != nil)

        let status = try await setup.get("/v1/status").json()
        #expect((status["store"] as? [String: Any])?["reachable"] as? Bool == false, "\(status)")
        let properties = status["properties"] as? [[String: Any]] ?? []
        #expect(properties.map { $0["name"] as? String } == ["api"])

        var metrics = ""
        #expect(
            await Self.eventually {
                metrics = try await setup.get("/metrics").text
                return metrics.contains("zumik_monitor_store_errors_total{op=")
            },
            "\(metrics)"
        )
        #expect(metrics.contains("zumik_monitor_store_up 0"), "\(metrics)")
        if Promtool.isAvailable {
            let checked = try Promtool.checkMetrics(metrics)
            #expect(checked.status == 0 && checked.text.isEmpty, "\(checked.text)")
        }

        // Probing goes on, and one degraded message is posted after the 3 s grace, straight to the webhook.
        let hits = api.count
        #expect(await Self.eventually { api.count >= hits + 3 }, "\(monitor.logText.suffix(3000))")
        #expect(await Self.eventually { Self.count("degraded", discord) == 1 }, "\(monitor.logText.suffix(3000))")
        try await Task.sleep(for: .seconds(3))
        #expect(Self.kinds(discord) == ["degraded"])
        #expect(discord.records.allSatisfy { $0.validationError == nil })
        let text = String(decoding: discord.posts[0].request.body, as: UTF8.self)
        #expect(text.contains("edge-a"))
        // Never the password, in the message, the answers or the log; the message and answers not even the URL.
        for body in [text, monitor.logText, "\(health)", "\(status)"] { #expect(!body.contains(password)) }
        for body in [text, "\(health)", "\(status)"] { #expect(!body.contains("127.0.0.1:\(port)")) }
    }

    /// PostgreSQL stopped (`pg_ctl stop -m fast` or `kill -9` of the postmaster) and started again mid-run.
    func restartMidRun(_ outage: (PostgresServer) throws -> Void) async throws {
        let server = try PostgresServer()
        defer { try? server.stop() }
        let databaseURL = server.url(database: try server.makeDatabase())
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let setup = try Setup(target: "\(api.server.baseURL)/healthz", databaseURL: databaseURL, discord: discord)
        let monitor = try setup.start()
        defer { monitor.terminate() }
        let reader = try PostgresSibling(url: databaseURL, holder: "test-reader")
        let log = { monitor.logText.suffix(4000) }

        // The target breaks: one DOWN alert, delivered.
        api.set(500)
        #expect(await Self.eventually { Self.count("down", discord) == 1 }, "\(log())")
        #expect(
            await Self.eventually { try await reader.store.allOutbox().allSatisfy { $0.deliveredAt != nil } },
            "\(log())"
        )

        // The database goes away: /healthz says so, one degraded message, probing goes on.
        try outage(server)
        #expect(
            await Self.eventually {
                let reply = try await setup.get("/healthz")
                let status = try reply.json()["status"] as? String
                return reply.status == 503 && status == "store_unreachable"
            },
            "\(log())"
        )
        #expect(await Self.eventually { Self.count("degraded", discord) == 1 }, "\(log())")
        // The target recovers while the database is down; the monitor keeps probing it.
        api.set(200)
        let hits = api.count
        #expect(await Self.eventually { api.count >= hits + 3 }, "\(log())")
        #expect(Self.kinds(discord) == ["down", "degraded"])

        // The database returns: store up, one restored message, one RECOVERED, no second DOWN, outbox drained.
        try server.start(retryingFor: 30)
        #expect(await Self.eventually { try await setup.get("/healthz").status == 200 }, "\(log())")
        #expect(
            await Self.eventually { Self.count("restored", discord) == 1 && Self.count("recovered", discord) == 1 },
            "\(log())"
        )
        #expect(
            await Self.eventually { try await reader.store.allOutbox().allSatisfy { $0.deliveredAt != nil } },
            "\(log())"
        )
        let metrics = try await setup.get("/metrics").text
        #expect(metrics.contains("zumik_monitor_store_up 1"))
        // A few more cycles: nothing more is posted.
        try await Task.sleep(for: .seconds(3))
        #expect(Self.kinds(discord).sorted() == ["degraded", "down", "recovered", "restored"], "\(log())")
        #expect(discord.records.allSatisfy { $0.validationError == nil })
        let incidents = try await reader.store.incidents(for: "api")
        #expect(incidents.count == 1)
        #expect(incidents.first?.closedAt != nil)
        let state = try await reader.store.state(of: "api")
        #expect(state?.health == .healthy)
    }

    @Test func restartingPostgresMidRunLosesAndDuplicatesNoAlert() async throws {
        try await restartMidRun { try $0.stop(mode: "fast") }
    }

    @Test func killingThePostmasterMidRunLosesAndDuplicatesNoAlert() async throws {
        try await restartMidRun { try $0.killPostmaster() }
    }
}
