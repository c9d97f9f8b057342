import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// Each instance renews its location's heartbeat once per cycle, not only through a recorded probe: a location
/// with nothing due still counts as live, so another location failing alone stays below quorum.
@Suite struct LocationHeartbeatTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 1, successThreshold: 1, confirmationDelay: nil)

    func probe(_ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(property: "api", url: "https://api.example/healthz", at: at, health: health)
    }

    func render(_ event: AlertEvent) -> any OutboxMessage {
        PlainMessage(text: "\(event.result.property) \(event.transition.from.rawValue)→\(event.transition.to.rawValue)")
    }

    func report(_ storage: any MonitorStorage, _ health: Health, at time: Date) async throws -> RecordOutcome {
        try await storage.record(
            probe(health, time),
            at: LocationContext(name: "a", liveWindow: 90),
            policy: policy,
            now: time,
            message: render
        )
    }

    /// Records a healthy result from location `a` at `time` (which changes nothing) until the quorum counts `b`
    /// live; false when a generous timeout passes first.
    func bIsLive(_ storage: any MonitorStorage, at time: Date) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        while ContinuousClock.now < deadline {
            if try await report(storage, .healthy, at: time).quorum?.live == ["a", "b"] { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test(arguments: StorageBackend.available)
    func aLocationWithNothingDueStaysInTheQuorum(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for name in ["a", "b"] {
            _ = try await storage.record(
                probe(.healthy, t0),
                at: LocationContext(name: name, liveWindow: 90),
                policy: policy,
                now: t0,
                message: render
            )
        }
        // 200 s later (over 3 × 30 s): b has probed nothing since t0, but its monitor is running.
        let clock = TestClock(t0 + 200)
        let b = locationMonitor("b", on: storage, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await b.run() }
            #expect(try await bIsLive(storage, at: t0 + 200), "b's heartbeat was not renewed: a alone is the fleet")
            // a alone confirms it down: below quorum (1 of 2, 2 needed), an advisory, no incident.
            var failing: [RecordOutcome] = []
            // Its advisory comes two probes after its own confirmation (Quorum.advisoryPatience).
            for second in 0..<4 { failing.append(try await report(storage, .down, at: t0 + 200 + Double(second))) }
            #expect(failing.allSatisfy { $0.quorum?.live == ["a", "b"] })
            #expect(failing.compactMap(\.transition).isEmpty)
            #expect(failing.compactMap(\.advisory).map(\.kind) == [.failingAlone])
            // A cycle later in the injected time, b is renewed again.
            clock.set(t0 + 400)
            #expect(try await bIsLive(storage, at: t0 + 400))
            group.cancelAll()
        }
        #expect(try await storage.incidents(for: "api").isEmpty)
        #expect(try await storage.state(of: "api")?.health == .healthy)
        withExtendedLifetime(keep) {}
    }
}
