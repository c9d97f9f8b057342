import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// The status pages in a real browser: the real `zumik-monitor` builds a history against real loopback
/// servers — `api` down until the ladder's remediation, run by the real `zumik-ops-agent`, heals it; `cache`
/// down until the remediation round is spent and the on-call human is paged (Discord stand-in), then back —
/// over 90 days of history seeded through the store. Then `Tests/Fixtures/status-page/check_pages.py` loads
/// `/status` and `/status/operator` in headless Chromium and checks them against what the store holds.
@Suite(
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor is not built beside the test binary"),
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(
        if: BrowserCheck.available,
        "chromium, chromium-driver (Debian) or selenium (PyPI) missing: bash scripts/setup.sh installs them"
    )
)
struct StatusPageBrowserTests {
    @Test func theStatusPagesShowWhatTheStoreHoldsInHeadlessChromium() async throws {
        let dir = try TempDir()
        let healed = dir.url.appendingPathComponent("api-healed").path
        let api = try LoopbackServer { _ in
            FileManager.default.fileExists(atPath: healed)
                ? .respond(status: 200, body: "ok") : .respond(status: 503, body: "api-core is stopped")
        }
        defer { api.stop() }
        let cacheBroken = Mutex(false)
        let cache = try LoopbackServer { _ in
            cacheBroken.withLock { $0 } ? .respond(status: 503, body: "cache down") : .respond(status: 200, body: "ok")
        }
        defer { cache.stop() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                ("read_service_status", "echo 'api-core: exited (1) 2 minutes ago'", 10, "read"),
                ("restart_service", "touch \(healed); echo restarted", 10, "restart"),
            ],
            diagnostics: ["read_service_status"]
        )
        let port = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1s
        confirmation_delay: 100ms
        store_path: \(dir.dbPath)
        control:
          listen: 127.0.0.1:\(port)
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
        remediation:
          settle_seconds: 1
        history:
          roll_up_interval: 10s
        status_page:
          title: Zumik status
          public: true
        properties:
          - name: api
            url: \(api.baseURL)/healthz
            timeout: 2s
            host: default
            service: test
          - name: cache
            url: \(cache.baseURL)/healthz
            timeout: 2s
            host: default
            service: test
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        // 89 days and today's complete hours of history, seeded through the store before the monitor starts.
        let seedStore = try MonitorStore(path: dir.dbPath)
        try await BrowserCheck.seed(seedStore, properties: ["api", "cache"], now: Date())

        try await BinaryAgent.with(bundles: [(name: "test", manifest: manifest, plugin: "NginxActions")]) { agent in
            let monitor = try MonitorProcess(
                config: configPath,
                environment: [
                    "PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL,
                    "DISCORD_ALERT_USER_ID": "123456789012345678", "OPS_AGENT_URL": "http://127.0.0.1:\(agent.port)",
                    "OPS_AGENT_TOKEN": BinaryAgent.token, "MAX_REMEDIATION_ROUNDS": "1",
                ],
                log: dir.url.appendingPathComponent("monitor.log").path
            )
            defer { monitor.terminate() }
            let store: any MonitorStorage = seedStore
            // 1. api: down, diagnosed, restarted by the ladder, re-probed healthy: closed without a page.
            let apiHealed = try await BrowserCheck.eventually {
                try await store.incidents(for: "api").first?.closedAt != nil
            }
            try #require(apiHealed, "api was never healed; log:\n\(monitor.logText)")
            // 2. cache: down; the one round (the same restart) does not help: the on-call human is paged.
            cacheBroken.withLock { $0 = true }
            let paged = await discord.waitUntil(timeout: .seconds(60)) { records in
                records.contains {
                    (($0.json?["allowed_mentions"] as? [String: Any])?["users"] as? [String])?.isEmpty == false
                }
            }
            try #require(paged, "cache was never paged; log:\n\(monitor.logText)")
            let pageCommitted = try await BrowserCheck.eventually {
                try await store.incidents(for: "cache").first?.pagedAt != nil
            }
            try #require(pageCommitted)
            // 3. The human fixes it: recovery.
            cacheBroken.withLock { $0 = false }
            let recovered = try await BrowserCheck.eventually {
                try await store.incidents(for: "cache").first?.closedAt != nil
            }
            try #require(recovered, "cache never recovered; log:\n\(monitor.logText)")
            // Every alert delivered, so the timelines hold still while the browser reads them.
            _ = try await BrowserCheck.eventually {
                try await store.allOutbox().allSatisfy { $0.deliveredAt != nil }
            }

            // What the store holds, read through the same operations the API uses, at this moment.
            var config = try ConfigLoader.load(path: configPath, environment: [:])
            config.storePath = dir.dbPath
            let reader = StatusReader(config: config, storage: store, history: seedStore)
            let now = Date()
            let summary = try await reader.summary(now: now, publicOnly: true)
            var timelines: [IncidentTimeline] = []
            for incident in summary.incidents {
                timelines.append(try #require(try await reader.timeline(incident.id, now: now)))
            }
            #expect(summary.incidents.count == 2 && summary.incidents.allSatisfy { $0.closedAt != nil })
            #expect(timelines.contains { t in t.entries.contains { $0.kind == .page } })
            #expect(timelines.contains { t in t.entries.contains { $0.kind == .healed && $0.path == "ladder" } })
            let expected = dir.url.appendingPathComponent("expected.json").path
            try BrowserCheck.writeExpectations(summary: summary, timelines: timelines, to: expected)

            let output = BrowserCheck.artifacts
            print("status page screenshots and the checker's report: \(output)")
            let (status, report) = try BrowserCheck.run(
                base: "http://127.0.0.1:\(port)",
                expected: expected,
                out: output
            )
            print(report)
            #expect(status == 0, "the browser checks failed:\n\(report)")
        }
        withExtendedLifetime(dir) {}
    }
}
