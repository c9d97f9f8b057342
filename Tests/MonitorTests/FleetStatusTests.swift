import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// `/v1/status` (through `MonitorService.status`) shows per property what each location sees, since when and
/// whether its below-quorum advisory is open, and the fleet's locations with their heartbeats; `/metrics` has
/// `zumik_monitor_location_live{location}`.
@Suite struct FleetStatusTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func probe(_ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(property: "api", url: "https://api.example/healthz", at: at, health: health)
    }

    func record(_ storage: any MonitorStorage, _ health: Health, from location: String, at time: Date) async throws {
        _ = try await storage.record(
            probe(health, time),
            at: LocationContext(name: location, liveWindow: 90),
            policy: policy,
            now: time,
            message: AlertFormatter.transitionMessage(editMessages: false)
        )
    }

    @Test(arguments: StorageBackend.available)
    func statusShowsEachLocationsViewAndTheFleet(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for location in ["a", "b", "c"] { try await record(storage, .healthy, from: location, at: t0) }
        // a confirms at t0 + 2 and advises two probes later (Quorum.advisoryPatience).
        for i in 1...4 {
            try await record(storage, .down, from: "a", at: t0 + Double(i))
            try await record(storage, .healthy, from: "b", at: t0 + Double(i))
        }
        var config = MonitorConfig(
            interval: .seconds(30),
            properties: [PropertyConfig(name: "api", url: "https://api.example/healthz")]
        )
        config.store.location = "b"
        let service = MonitorService(
            config: config,
            store: storage,
            transport: CurlEngine(maxInFlight: 1),
            outbox: AlertOutbox(store: storage, signal: WakeSignal()),
            logger: quietLogger,
            now: { [t0] in t0 + 91 }
        )
        let status = try await service.status()
        let api = try #require(status.properties.first)
        #expect(api.state == .healthy)
        let views = try #require(api.locations)
        #expect(views.map(\.location) == ["a", "b", "c"])
        #expect(views.map(\.state) == [.down, .healthy, .healthy])
        #expect(views.map(\.belowQuorum) == [true, false, false])
        #expect(views[0].since == t0 + 2)
        #expect(views[1].since == t0)
        #expect(views[0].lastReport == t0 + 4)
        // At t0 + 91 with a 90 s window: a and b (heard at t0 + 4) are live, c (heard at t0) is not.
        let fleet = try #require(status.locations)
        #expect(fleet.map(\.name) == ["a", "b", "c"])
        #expect(fleet.map(\.live) == [true, true, false])
        #expect(fleet.map(\.lastSeen) == [t0 + 4, t0 + 4, t0])
        // The JSON names.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let json = String(decoding: try encoder.encode(status), as: UTF8.self)
        #expect(json.contains(#""below_quorum":true"#))
        #expect(json.contains(#""last_seen":"#))
        withExtendedLifetime(keep) {}
    }
}

/// The real binary's `/metrics`: its own location live, Prometheus's linter satisfied.
@Suite(
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
    .enabled(if: Promtool.isAvailable, "promtool is missing (Debian's prometheus package, scripts/setup.sh)")
)
struct LocationLiveMetricTests {
    @Test func theMonitorsOwnLocationIsLive() async throws {
        try await Scrapes.monitor(environment: ["ZUMIK_LOCATION": "edge-1"]) { _, exposition in
            let lint = try Promtool.checkMetrics(exposition)
            #expect(lint.status == 0 && lint.text.isEmpty, "promtool check metrics:\n\(lint.text)")
            #expect(exposition.contains("# HELP zumik_monitor_location_live "))
            #expect(exposition.contains("# TYPE zumik_monitor_location_live gauge"))
            #expect(exposition.contains(#"zumik_monitor_location_live{location="edge-1"} 1"#))
        }
    }
}
