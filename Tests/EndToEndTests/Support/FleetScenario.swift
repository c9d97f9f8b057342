import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// One multi-location world for the fleet tests: ``NetnsFleet``'s namespaces, a throwaway PostgreSQL 15, the
/// target HTTP server, the Discord stand-in and the real `zumik-ops-agent` in the hub, and one real
/// `zumik-monitor` per location started on demand (`store: postgres`, 1 s interval, the deterministic ladder).
/// The target answers 503 while its marker file exists; the test bundle's `fix_target` action removes it.
final class FleetScenario: @unchecked Sendable {
    // @unchecked: the monitors dictionary is only touched by the one test that owns the scenario.
    static let lease = 3
    static let interval = 1
    /// `store_outage.connection_wait`, seconds.
    static let connectionWait = 2
    /// How long after the store returns a location waits before it judges others silent
    /// (`MonitorConfig.locationSettleAfterOutage`: live window + connection wait + interval).
    static var settleAfterOutage: Int { 3 * interval + connectionWait + interval }

    let fleet: NetnsFleet
    let directory: TempDir
    let postgres: PostgresServer
    let database: String
    let target: LoopbackServer
    let discord: FakeDiscord
    let agent: BinaryAgent
    let settleSeconds: Int
    private(set) var monitors: [String: MonitorProcess] = [:]

    var brokenMarker: String { directory.file("target-broken") }

    /// Why the fleet tests cannot run here (nil: they can).
    static var unavailableReason: String? {
        if let reason = NetnsFleet.unavailableReason { return reason }
        if let reason = PostgresServer.unavailableReason { return reason }
        if MonitorProcess.binary == nil { return "zumik-monitor is not built beside the test binary" }
        if !AgentBinary.exists { return "zumik-ops-agent is not built beside the test binary" }
        if !Specs.isAvailable { return "specs dir, python3 or python3-jsonschema missing" }
        return nil
    }

    /// The test bundle: one diagnostic, a remediation that does not help (`a_reload_target`), and the one
    /// that does (`fix_target`, tried second: the ladder goes by rank, then id).
    static func bundle(marker: String) -> [(name: String, manifest: String, plugin: String)] {
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                ("inspect_target", "echo inspecting", 10, "target"),
                ("a_reload_target", "echo reloaded", 10, "target"),
                ("fix_target", "rm -f '\(marker)'", 10, "target"),
            ],
            diagnostics: ["inspect_target"]
        )
        return [(name: "fleet", manifest: manifest, plugin: "NginxActions")]
    }

    private init(settleSeconds: Int) async throws {
        self.settleSeconds = settleSeconds
        fleet = try NetnsFleet()
        directory = try TempDir("zumik-fleet")
        postgres = try PostgresServer(host: "0.0.0.0", launcher: fleet.hubLauncher)
        database = try postgres.makeDatabase()
        let marker = directory.file("target-broken")
        target = try LoopbackServer(bindAddress: "0.0.0.0", namespace: fleet.hub) { _ in
            FileManager.default.fileExists(atPath: marker)
                ? .respond(status: 503, body: "broken") : .respond(status: 200, body: "ok")
        }
        discord = try FakeDiscord(namespace: fleet.hub)
        agent = try await BinaryAgent(bundles: Self.bundle(marker: marker), namespace: fleet.hub)
    }

    /// Runs `body` in a new scenario and tears everything down after it, however it ends.
    static func run(settleSeconds: Int = 1, _ body: (FleetScenario) async throws -> Void) async throws {
        let scenario = try await FleetScenario(settleSeconds: settleSeconds)
        do {
            try await body(scenario)
        } catch {
            await scenario.tearDown()
            throw error
        }
        await scenario.tearDown()
        #expect(scenario.discord.records.allSatisfy { $0.validationError == nil })
    }

    func tearDown() async {
        for monitor in monitors.values { monitor.kill9() }
        await agent.stop()
        target.stop()
        discord.stop()
        fleet.remove()
        directory.remove()
    }

    func location(_ name: String) -> NetnsFleet.Location {
        fleet.locations.first { $0.name == name }!
    }

    /// The config every location runs (only the environment differs), written once.
    func configPath() throws -> String {
        let path = directory.file("monitor.yaml")
        if FileManager.default.fileExists(atPath: path) { return path }
        try """
        interval: \(Self.interval)s
        confirmation_delay: 100ms
        store: postgres
        remediation_lease: \(Self.lease)s
        store_outage:
          notify_after: 2s
          connection_wait: \(Self.connectionWait)s
        control:
          listen: 127.0.0.1:9464
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
        remediation:
          settle_seconds: \(settleSeconds)
        properties:
          - name: target
            url: http://{TARGET}:\(target.port)/
            timeout: 2s
            host: default
            service: test
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `location`'s own config: the shared one with its address of the target.
    func config(for location: NetnsFleet.Location) throws -> String {
        let text = try String(contentsOfFile: try configPath(), encoding: .utf8)
        let path = directory.file("monitor-\(location.name).yaml")
        try text.replacingOccurrences(of: "{TARGET}", with: location.targetAddress)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func environment(for location: NetnsFleet.Location) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin",
            "ZUMIK_LOCATION": location.name,
            "ZUMIK_DATABASE_URL": postgres.url(database: database, address: location.serviceAddress),
            "DISCORD_WEBHOOK_URL": discord.webhookURL(host: location.serviceAddress),
            "DISCORD_ALERT_USER_ID": EndToEnd.alertUserID,
            "OPS_AGENT_URL": "http://\(location.serviceAddress):\(agent.port)",
            "OPS_AGENT_TOKEN": BinaryAgent.token,
            "MAX_REMEDIATION_ROUNDS": "3",
        ]
    }

    /// Starts the real monitor of each named location inside its namespace.
    @discardableResult
    func start(_ names: [String]) throws -> [MonitorProcess] {
        try names.map { name in
            let location = location(name)
            let monitor = try MonitorProcess(
                config: try config(for: location),
                environment: environment(for: location),
                log: directory.file("monitor-\(name).log"),
                launcher: location.launcher
            )
            monitors[name] = monitor
            return monitor
        }
    }

    func breakTarget() {
        _ = FileManager.default.createFile(atPath: brokenMarker, contents: Data("broken".utf8))
    }

    /// One SQL query's rows (`psql -At`), through the cluster's Unix socket.
    func sql(_ query: String) throws -> [String] {
        try postgres.psql(query, database: database).split(separator: "\n").map(String.init)
    }

    func logs() -> String {
        monitors.keys.sorted().map { "== \($0)\n\(monitors[$0]!.logText.suffix(6000))" }.joined(separator: "\n")
    }

    /// Every location has recorded a probe (its heartbeat is in the store).
    func waitUntilLive(_ names: [String]) async throws -> Bool {
        try await EndToEnd.eventually(timeout: .seconds(60)) {
            let live = Set((try? sql("SELECT name FROM locations")) ?? [])
            return Set(names).isSubset(of: live)
        }
    }
}

/// What the channel received, by kind: each message counted once.
struct FleetPosts: Equatable, CustomStringConvertible {
    var incidentMessages = 0
    var edits = 0
    var recoveries = 0
    var pages = 0
    /// The direct "monitoring degraded" / "monitoring restored" messages of a database outage (one per location).
    var degraded = 0
    var restored = 0
    var advisories: [String] = []
    var clearings: [String] = []
    var other: [String] = []

    init(_ records: [FakeDiscord.Record]) {
        for record in records {
            let titles = EndToEnd.embedTitles(record)
            if record.request.method == "PATCH" {
                edits += 1
            } else if !EndToEnd.pages([record]).isEmpty {
                pages += 1
            } else if let title = titles.first(where: { $0.contains("(below quorum)") }) {
                advisories.append(title)
            } else if let title = titles.first(where: { $0.contains("sees it healthy again") }) {
                clearings.append(title)
            } else if titles.contains(where: { $0.hasPrefix("Monitoring degraded") }) {
                degraded += 1
            } else if titles.contains(where: { $0.hasPrefix("Monitoring restored") }) {
                restored += 1
            } else if record.request.target.contains("wait=true") {
                incidentMessages += 1
            } else if titles.contains(where: { $0.contains("recovered") }) {
                recoveries += 1
            } else {
                other.append(titles.first ?? (record.json?["content"] as? String ?? record.request.bodyText))
            }
        }
    }

    var description: String {
        "incident messages \(incidentMessages), edits \(edits), recoveries \(recoveries), pages \(pages), "
            + "degraded \(degraded), restored \(restored), advisories \(advisories), clearings \(clearings), "
            + "other \(other)"
    }
}
