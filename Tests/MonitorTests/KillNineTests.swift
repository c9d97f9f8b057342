import Foundation
import Monitor
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
import Probing
#endif

/// The real `zumik-monitor` binary, killed with SIGKILL between writing an alert to the outbox and Discord
/// acknowledging it, then restarted: every transition reaches Discord exactly once.
@Suite(.serialized) struct KillNineTests {
    @Test(
        .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
        .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
    )
    func transitionsArriveExactlyOnceAcrossKillNine() async throws {
        _ = try #require(MonitorProcess.binary)
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        // The first delivery attempt stalls: the monitor has written the outbox row and waits for Discord.
        let discord = try FakeDiscord(script: [.stall])
        defer { discord.stop() }
        let controlPort = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        confirmation_delay: 100ms
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(controlPort)
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
          edit_messages: false
        properties:
          - name: api
            url: \(api.server.baseURL)/healthz
            timeout: 5s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL]
        let log = dir.url.appendingPathComponent("monitor.log")

        // 1. Start, let the outage be confirmed, and kill -9 while the DOWN alert is in flight.
        let first = try MonitorProcess(config: configPath, environment: env, log: log.path)
        let stalled = await discord.waitUntil { $0.count == 1 }
        #expect(stalled, "no delivery attempt; log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        first.kill9()
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)
        let rows = try store.allOutbox()
        #expect(rows.count == 1)
        #expect(rows.first?.deliveredAt == nil)
        #expect(try store.openIncident(for: "api") != nil)

        // 2. Restart: the pending row is delivered; the still-down property produces no second transition.
        let second = try MonitorProcess(config: configPath, environment: env, log: log.path)
        defer { second.terminate() }
        #expect(await discord.waitUntil { $0.filter { $0.reply == "204" }.count == 1 })
        #expect(
            await waitFor {
                (try? store.state(of: "api")?.lastResult?.at ?? .distantPast) ?? .distantPast > rows[0].createdAt
            }
        )

        // 3. Recovery through the control API's check-now, announced once.
        api.set(200)
        let engine = CurlEngine(maxInFlight: 4)
        var checked = false
        for _ in 0..<100 where !checked {
            let reply = await engine.send(
                HTTPRequest(method: "POST", url: "http://127.0.0.1:\(controlPort)/v1/check", body: [])
            )
            checked = reply.status == 200
            if !checked { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(checked)
        #expect(await discord.waitUntil { $0.filter { $0.reply == "204" }.count == 2 })
        second.terminate()

        let delivered = discord.delivered
        let titles = delivered.compactMap { ($0.json?["embeds"] as? [[String: Any]])?.first?["title"] as? String }
        #expect(titles == ["api is DOWN", "api recovered (was down)"])
        for record in discord.records { #expect(record.validationError == nil, "\(record.validationError ?? "")") }
        #expect(try store.allOutbox().count == 2)
        #expect(try store.allOutbox().allSatisfy { $0.deliveredAt != nil })
        #expect(try store.incidents(for: "api").count == 1)
    }
}

/// The `check` and `validate` commands of the real binary.
@Suite struct CommandLineTests {
    static func run(_ arguments: [String], env: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> (Int32, String)
    {
        let binary = try #require(MonitorProcess.binary)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
    func checkPrintsATableAndExitsZeroOnlyWhenAllHealthy() throws {
        let dir = try TempDir()
        let ok = try LoopbackServer { _ in .respond(status: 200, body: "ok") }
        let broken = try LoopbackServer { _ in .respond(status: 500) }
        defer {
            ok.stop()
            broken.stop()
        }
        let healthy = dir.url.appendingPathComponent("healthy.yaml").path
        try "properties:\n  - name: web\n    url: \(ok.baseURL)/\n".write(
            toFile: healthy,
            atomically: true,
            encoding: .utf8
        )
        let (status, output) = try Self.run(["check", "--config", healthy])
        #expect(status == 0, "\(output)")
        #expect(output.contains("PROPERTY"))
        #expect(output.contains("web"))
        #expect(output.contains("healthy"))

        let mixed = dir.url.appendingPathComponent("mixed.yaml").path
        try """
        properties:
          - name: web
            url: \(ok.baseURL)/
          - name: api
            url: \(broken.baseURL)/healthz
        """.write(toFile: mixed, atomically: true, encoding: .utf8)
        let (status2, output2) = try Self.run(["check", "--config", mixed])
        #expect(status2 == 1)
        #expect(output2.contains("unexpected status 500"))
    }

    @Test(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
    func validateReportsErrorsWithoutSecrets() throws {
        let dir = try TempDir()
        let bad = dir.url.appendingPathComponent("bad.yaml").path
        try "properties:\n  - name: web\n    url: gopher://x\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let (status, output) = try Self.run(
            ["validate", bad],
            env: ["PATH": "/usr/bin:/bin", "CONTROL_TOKEN": "tooshort-SECRET"]
        )
        #expect(status == 2)
        #expect(output.contains("bad.yaml: properties[0].url: not an http(s) URL"))
        #expect(output.contains("environment: CONTROL_TOKEN: must be at least 16 characters"))
        #expect(!output.contains("tooshort-SECRET"))

        let good = dir.url.appendingPathComponent("good.yaml").path
        try "properties:\n  - name: web\n    url: https://zumik.ai\n".write(
            toFile: good,
            atomically: true,
            encoding: .utf8
        )
        let (status2, output2) = try Self.run(["validate", good])
        #expect(status2 == 0)
        #expect(output2.contains("ok (1 properties"))
    }
}
