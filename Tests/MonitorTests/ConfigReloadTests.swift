import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 15: SIGHUP reloads the configuration of the real `zumik-monitor` atomically; a bad file keeps the
/// running one and the log says why (file, key, problem). Before, SIGHUP ended the process.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct ConfigReloadTests {
    func write(_ path: String, port: Int, properties: [(String, String)], interval: String = "300ms") throws {
        let list = properties.map { "  - {name: \($0.0), url: \"\($0.1)\", timeout: 5s}" }.joined(separator: "\n")
        try """
        interval: \(interval)
        confirmation_delay: false
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(port)
        properties:
        \(list)
        """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func status(_ port: Int) async throws -> [String: Any] {
        let result = await CurlEngine(maxInFlight: 1).send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/status"))
        return try JSONSerialization.jsonObject(with: Data(result.body)) as? [String: Any] ?? [:]
    }

    func names(_ status: [String: Any]) -> [String] {
        (status["properties"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    }

    @Test func sighupSwapsAGoodFileInAndKeepsTheRunningOneOnABadFile() async throws {
        let dir = try TempDir()
        let hits = Mutex<[String: Int]>([:])
        let server = try LoopbackServer { request in
            hits.withLock { $0[String(request.target.prefix { $0 != "?" }), default: 0] += 1 }
            return .respond(status: 200, body: "ok")
        }
        defer { server.stop() }
        let port = try LoopbackServer.freePort()
        let path = dir.url.appendingPathComponent("monitor.yaml").path
        try write(path, port: port, properties: [("api", "\(server.baseURL)/api"), ("old", "\(server.baseURL)/old")])
        let monitor = try MonitorProcess(
            config: path,
            environment: ["PATH": "/usr/bin:/bin"],
            log: dir.url.appendingPathComponent("monitor.log").path,
            logLevel: "info"
        )
        defer { monitor.terminate() }
        #expect(await waitFor { monitor.logText.contains("control API listening") })
        #expect(await waitFor { hits.withLock { $0["/old"] ?? 0 } >= 2 })
        let before = try await status(port)
        #expect(before["config_generation"] as? Int == 1)
        #expect(names(before) == ["api", "old"])

        // A good file: "old" goes, "new" comes, "api" stays (with its state).
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)
        let apiSuccesses = try store.state(of: "api")?.consecutiveSuccesses ?? 0
        try write(path, port: port, properties: [("api", "\(server.baseURL)/api"), ("new", "\(server.baseURL)/new")])
        kill(monitor.process.processIdentifier, SIGHUP)
        #expect(await waitFor { monitor.logText.contains("configuration reloaded") }, "\(monitor.logText)")
        #expect(await waitFor { hits.withLock { $0["/new"] ?? 0 } >= 1 })
        #expect(monitor.process.isRunning)
        let reloaded = try await status(port)
        #expect(reloaded["config_generation"] as? Int == 2)
        #expect(names(reloaded) == ["api", "new"])
        #expect(monitor.logText.contains("config.generation=2"))
        let oldHits = hits.withLock { $0["/old"] ?? 0 }
        let apiHits = hits.withLock { $0["/api"] ?? 0 }
        #expect(await waitFor { hits.withLock { $0["/api"] ?? 0 } >= apiHits + 3 })
        #expect(hits.withLock { $0["/old"] ?? 0 } <= oldHits + 1, "the removed property is still probed")
        #expect((try store.state(of: "api")?.consecutiveSuccesses ?? 0) > apiSuccesses, "api's state was reset")

        // A bad file: the running configuration stays, and the log names the file, the key and why.
        try """
        interval: banana
        properties:
          - {name: api, url: "\(server.baseURL)/api"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        kill(monitor.process.processIdentifier, SIGHUP)
        #expect(await waitFor { monitor.logText.contains("configuration reload refused") }, "\(monitor.logText)")
        let refused = monitor.logText.split(separator: "\n").first { $0.contains("configuration reload refused") }
        #expect(refused?.contains("config.key=interval") == true, "\(refused ?? "")")
        #expect(refused?.contains("config.file=\(path)") == true)
        #expect(refused?.contains("expected a duration") == true)
        #expect(monitor.process.isRunning)
        let kept = try await status(port)
        #expect(kept["config_generation"] as? Int == 2)
        #expect(names(kept) == ["api", "new"])
    }
}

/// What a reload swaps in and what it keeps for the next restart.
@Suite struct ConfigReloadOutcomeTests {
    @Test func processSettingsAreKeptAndNamedWhilePropertiesSwap() throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let old = MonitorConfig(
            interval: .seconds(60),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "a", url: "http://127.0.0.1:1/a")]
        )
        let monitor = MonitorService(
            config: old,
            store: store,
            transport: CurlEngine(maxInFlight: 1),
            outbox: AlertOutbox(store: store, signal: WakeSignal()),
            logger: quietLogger
        )
        var new = old
        new.interval = .seconds(30)
        new.storePath = "/elsewhere.sqlite"
        new.controlPort = 9999
        new.properties = [PropertyConfig(name: "b", url: "http://127.0.0.1:1/b")]
        let outcome = monitor.reload(new)
        #expect(outcome.generation == 2)
        #expect(outcome.added == ["b"] && outcome.removed == ["a"])
        #expect(outcome.needsRestart == ["store_path", "control.listen"])
        #expect(monitor.configGeneration == 2)
        #expect(monitor.config.properties.map(\.name) == ["b"])
        #expect(monitor.config.interval == .seconds(30))
        #expect(monitor.config.storePath == dir.dbPath)
        #expect(monitor.config.controlPort == old.controlPort)
        // The global certificate window is filled into each property for the prober.
        #expect(monitor.config.properties.first?.certWarningDays == 14)
    }
}
