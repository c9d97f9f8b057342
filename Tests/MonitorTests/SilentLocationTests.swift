import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// A monitor at location `name` with nothing to probe, on `storage`, its `now` the injected `clock`.
func locationMonitor(
    _ name: String,
    on storage: any MonitorStorage,
    clock: TestClock,
    health: StoreHealth = StoreHealth(backend: "sqlite")
) -> MonitorService {
    var config = MonitorConfig(interval: .seconds(30), properties: [])
    config.store.location = name
    return MonitorService(
        config: config,
        store: storage,
        transport: CurlEngine(maxInFlight: 1),
        outbox: AlertOutbox(store: storage, signal: WakeSignal()),
        logger: quietLogger,
        now: { clock.now },
        storeHealth: health
    )
}

/// Polls until `condition` holds (errors count as false), at most 20 s: a running monitor's pass at the injected
/// clock's time is over.
func locationsEventually(_ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .seconds(20))
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? await condition()) == true
}

/// Through `MonitorService` with an injected clock: two running instances notice the same silent locations and
/// the fleet announces each once, and once again when it returns.
@Suite struct SilentLocationTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StorageBackend.available)
    func twoInstancesAnnounceASilentLocationOnce(_ backend: StorageBackend) async throws {
        let (first, second, keep) = try backend.makePair()
        try await first.heartbeat(location: "a", now: t0)
        try await first.heartbeat(location: "b", now: t0)
        let clock = TestClock(t0 + 200)
        let c = locationMonitor("c", on: first, clock: clock)
        let d = locationMonitor("d", on: second, clock: clock)
        func locationRows() async throws -> [String] {
            try await first.allOutbox().filter { $0.kind == "location" }.map(\.payload)
        }
        /// Both instances have beaten at `time` (so each has announced after it).
        func bothBeat(at time: Date) async throws -> Bool {
            let beats = try await first.locations().filter { ["c", "d"].contains($0.name) }
            return beats.count == 2 && beats.allSatisfy { $0.lastSeen == time }
        }
        // The fleet knows all four before the two start (so the count in the text does not depend on who
        // starts first).
        try await first.heartbeat(location: "c", now: t0 + 200)
        try await first.heartbeat(location: "d", now: t0 + 200)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await c.run() }
            group.addTask { try await d.run() }
            #expect(await locationsEventually { try await locationRows().count == 2 })
            // A cycle later both have looked again, and finished (each beat comes before its announcement).
            clock.set(t0 + 230)
            #expect(await locationsEventually { try await bothBeat(at: t0 + 230) })
            try await second.heartbeat(location: "a", now: t0 + 240)
            clock.set(t0 + 260)
            #expect(await locationsEventually { try await bothBeat(at: t0 + 260) })
            let silent = try await locationRows()
            #expect(silent.filter { $0.contains("Location **a** silent since 2027-01-15T08:00:00Z") }.count == 1)
            #expect(silent.filter { $0.contains("Location **b** silent since") }.count == 1)
            #expect(silent.filter { $0.contains("leaves the quorum: 2 of 4 locations live") }.count == 2)
            // a is back: announced once more, by one of them.
            #expect(await locationsEventually { try await locationRows().count == 3 })
            clock.set(t0 + 290)
            #expect(await locationsEventually { try await bothBeat(at: t0 + 290) })
            let rows = try await locationRows()
            #expect(rows.count == 3)
            #expect(rows.filter { $0.contains("Location **a** is back") }.count == 1)
            #expect(rows.filter { $0.contains("rejoins the quorum: 3 of 4 locations live") }.count == 1)
            group.cancelAll()
        }
        withExtendedLifetime(keep) {}
    }
}
