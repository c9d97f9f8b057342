import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// The public status page with three locations reporting: the real `zumik-monitor` (location `iad`) serves a
/// store where `fra` sees `api` down alone; `Tests/Fixtures/status-page/check_locations.py` loads `/status` in
/// headless Chromium and checks the per-location line and entries (state as symbol and word), and the operator
/// view's latency by location.
@Suite(
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor is not built beside the test binary"),
    .enabled(
        if: BrowserCheck.available,
        "chromium, chromium-driver (Debian) or selenium (PyPI) missing: bash scripts/setup.sh installs them"
    )
)
struct FleetStatusPageBrowserTests {
    @Test func thePublicPageShowsWhatEachLocationSees() async throws {
        let dir = try TempDir()
        let api = try LoopbackServer { _ in .respond(status: 200, body: "ok") }
        defer { api.stop() }
        let port = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        store_path: \(dir.dbPath)
        control:
          listen: 127.0.0.1:\(port)
        status_page:
          title: Zumik status
          public: true
        properties:
          - name: api
            url: \(api.baseURL)/healthz
            timeout: 2s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        // Three locations have reported; fra confirms api down on its own (below quorum).
        let store = try MonitorStore(path: dir.dbPath)
        let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)
        let now = Date()
        func report(_ health: Health, from location: String, at time: Date) async throws {
            _ = try await store.record(
                ProbeResult(property: "api", url: "\(api.baseURL)/healthz", at: time, health: health),
                at: LocationContext(name: location, liveWindow: 3 * 3600),
                policy: policy,
                now: time,
                message: AlertFormatter.transitionMessage(editMessages: true)
            )
        }
        for location in ["fra", "iad", "sin"] { try await report(.healthy, from: location, at: now - 10) }
        // Confirmed at the second failure, advised two probes later (Quorum.advisoryPatience).
        for second in 6...9 { try await report(.down, from: "fra", at: now - 10 + Double(second)) }
        // Their latency, for the operator view's per-location table.
        for (location, ms) in [("fra", 40.0), ("sin", 250.0)] {
            try await store.appendSample(
                HistorySample(
                    property: "api",
                    at: now - 5,
                    health: .healthy,
                    status: 200,
                    timings: PhaseTimings(dnsMs: 1, connectMs: 2, tlsMs: 0, firstByteMs: ms - 1, totalMs: ms),
                    location: location
                )
            )
        }

        let monitor = try MonitorProcess(
            config: configPath,
            environment: ["PATH": "/usr/bin:/bin", "ZUMIK_LOCATION": "iad"],
            log: dir.url.appendingPathComponent("monitor.log").path
        )
        defer { monitor.terminate() }
        // The JSON the page is a client of: the three live locations' views of api.
        var views: [[String: Any]] = []
        let served = try await BrowserCheck.eventually(timeout: .seconds(30)) {
            guard let reply = try? await RawHTTP.get(port: port, "/v1/status-page"), reply.status == 200,
                let json = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any],
                let properties = json["properties"] as? [[String: Any]],
                let locations = properties.first?["locations"] as? [[String: Any]]
            else { return false }
            views = locations
            return true
        }
        try #require(served, "no per-location view in /v1/status-page; log:\n\(monitor.logText)")
        #expect(views.map { $0["location"] as? String } == ["fra", "iad", "sin"])
        #expect(views.map { $0["state"] as? String } == ["down", "healthy", "healthy"])
        #expect(views.map { $0["below_quorum"] as? Bool } == [true, false, false])

        let expected = dir.url.appendingPathComponent("expected-locations.json").path
        try JSONSerialization.data(withJSONObject: [
            "api": [
                "line": "Down in 1 of 3 locations",
                "latency_locations": ["fra", "sin"],
                "locations": [
                    ["location": "fra", "state": "down"], ["location": "iad", "state": "healthy"],
                    ["location": "sin", "state": "healthy"],
                ],
            ]
        ]).write(to: URL(fileURLWithPath: expected))
        let (status, report) = try BrowserCheck.run(
            base: "http://127.0.0.1:\(port)",
            expected: expected,
            out: BrowserCheck.artifacts,
            script: BrowserCheck.locationsScript
        )
        print(report)
        #expect(status == 0, "check_locations.py:\n\(report)\nmonitor log:\n\(monitor.logText)")
    }
}
