import Foundation
import Monitor
import Testing
import ZumikTestSupport

/// Through `MonitorService` with an injected clock: when the store answers again after an outage, every other
/// location's heartbeat is stale because nobody could write one. The instance judges no location silent until
/// each has had time to beat (`locationSettleAfterOutage`), so a fleet-wide database outage announces no location
/// silent and back; a location that stays silent is still announced, once, after that.
@Suite struct LocationsAfterStoreOutageTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StorageBackend.available)
    func noLocationIsAnnouncedForTheOutagesSakeButOneThatStaysSilentIs(_ backend: StorageBackend) async throws {
        let (store, _, keep) = try backend.makePair()
        let clock = TestClock(t0)
        let health = StoreHealth(backend: backend.rawValue, now: { clock.now })
        // interval 30 s: live window 90 s; settle = 90 + connection_wait 5 + interval 30 = 125 s.
        let c = locationMonitor("c", on: store, clock: clock, health: health)
        #expect(c.config.locationSettleAfterOutage == 125)
        for name in ["a", "b"] { try await store.heartbeat(location: name, now: t0) }
        func locationRows() async throws -> [String] {
            try await store.allOutbox().filter { $0.kind == "location" }.map(\.payload)
        }
        func beat(at time: Date) async throws -> Bool {
            try await store.locations().first { $0.name == "c" }?.lastSeen == time
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await c.run() }
            #expect(await locationsEventually { try await beat(at: t0) })

            // The database goes away for 200 s: nobody beats meanwhile (this instance's loop does no store work).
            health.failed("record", kind: "test outage")
            clock.set(t0 + 200)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await beat(at: t0))

            // It answers again: c beats at once, a reconnects 10 s later, b never does.
            health.succeeded()
            #expect(health.recoveredAt == t0 + 200)
            #expect(await locationsEventually { try await beat(at: t0 + 200) })
            try await store.heartbeat(location: "a", now: t0 + 210)
            clock.set(t0 + 230)
            // Beaten again, so its previous pass (the one right after the outage) is over: nothing announced.
            #expect(await locationsEventually { try await beat(at: t0 + 230) })
            clock.set(t0 + 260)
            #expect(await locationsEventually { try await beat(at: t0 + 260) })
            #expect(try await locationRows() == [])

            // Once every location had time to beat, the one that did not is announced, once; a never is.
            try await store.heartbeat(location: "a", now: t0 + 320)
            clock.set(t0 + 330)
            #expect(await locationsEventually { try await locationRows().count == 1 })
            try await store.heartbeat(location: "a", now: t0 + 350)
            clock.set(t0 + 360)
            #expect(await locationsEventually { try await beat(at: t0 + 360) })
            clock.set(t0 + 390)
            #expect(await locationsEventually { try await beat(at: t0 + 390) })
            let rows = try await locationRows()
            #expect(rows.count == 1, "\(rows)")
            #expect(rows.first?.contains("Location **b** silent since") == true, "\(rows)")
            #expect(!rows.contains { $0.contains("**a**") }, "\(rows)")
            group.cancelAll()
        }
        withExtendedLifetime(keep) {}
    }
}
