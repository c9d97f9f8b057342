import Foundation
import Monitor
import Probing
import Testing

/// Locations and quorum through `MonitorStorage`, on both backends: each location debounces its own probes;
/// the property's state, incident and alert follow the quorum of live locations, once for the fleet.
@Suite struct QuorumTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func at(_ name: String, window: TimeInterval = 60, quorum: Int? = nil) -> LocationContext {
        LocationContext(name: name, liveWindow: window, quorum: quorum)
    }

    func probe(_ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(
            property: "api",
            url: "https://api.example/healthz",
            at: at,
            health: health,
            reasons: health == .healthy ? [] : ["HTTP 503"]
        )
    }

    func render(_ event: AlertEvent) -> any OutboxMessage {
        if let advisory = event.advisory {
            return PlainMessage(text: "\(advisory.location) \(advisory.kind.rawValue) \(advisory.sees.rawValue)")
        }
        return PlainMessage(text: "api \(event.transition.from.rawValue)→\(event.transition.to.rawValue)")
    }

    /// Records `health` from each of `locations`, in order, at `time`.
    @discardableResult
    func report(_ storage: any MonitorStorage, _ health: Health, from locations: [LocationContext], at time: Date)
        async throws -> [RecordOutcome]
    {
        var outcomes: [RecordOutcome] = []
        for location in locations {
            outcomes.append(
                try await storage.record(probe(health, time), at: location, policy: policy, now: time, message: render)
            )
        }
        return outcomes
    }

    @Test(arguments: StorageBackend.available)
    func aLocationFailingAloneOpensNoIncidentPostsOneAdvisoryAndClearsIt(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await report(storage, .healthy, from: [at("a"), at("b"), at("c")], at: t0)
        for i in 1...4 {
            try await report(storage, .down, from: [at("a")], at: t0 + Double(i))
            try await report(storage, .healthy, from: [at("b"), at("c")], at: t0 + Double(i))
        }
        #expect(try await storage.incidents(for: "api").isEmpty)
        #expect(try await storage.state(of: "api")?.health == .healthy)
        #expect(try await storage.allOutbox().map(\.payload) == ["a failing_alone down"])
        // Posted once a had failed alone for two probes beyond its confirmation (its 4th failing probe).
        #expect(try await storage.allOutbox().first?.createdAt == t0 + 4)
        let cleared = try await report(storage, .healthy, from: [at("a")], at: t0 + 10)
        #expect(cleared.first?.advisory?.kind == .cleared)
        #expect(try await storage.allOutbox().map(\.payload) == ["a failing_alone down", "a cleared healthy"])
        #expect(try await storage.allOutbox().map(\.kind) == ["advisory", "advisory"])
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aMajorityOfLocationsOpensOneIncidentWithOneAlert(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await report(storage, .healthy, from: [at("a"), at("b"), at("c")], at: t0)
        try await report(storage, .down, from: [at("a"), at("b")], at: t0 + 1)
        #expect(try await storage.incidents(for: "api").isEmpty)
        let confirmed = try await report(storage, .down, from: [at("a"), at("b")], at: t0 + 2)
        // a confirms first, then b makes the quorum: the incident opens once, and a, which was never failing
        // alone for long, posts no advisory (issue 13: FleetNetnsTests saw one, and its clearing, in every outage).
        #expect(confirmed[0].advisory == nil)
        #expect(confirmed[1].transition == Transition(from: .healthy, to: .down))
        #expect(confirmed[1].quorum?.failing == ["a", "b"])
        #expect(confirmed[1].quorum?.required == 2)
        try await report(storage, .down, from: [at("a"), at("b")], at: t0 + 3)
        try await report(storage, .healthy, from: [at("c")], at: t0 + 3)
        #expect(try await storage.incidents(for: "api").count == 1)
        #expect(try await storage.allOutbox().filter { $0.kind == "transition" }.map(\.payload) == ["api healthy→down"])
        #expect(try await storage.allOutbox().filter { $0.kind == "advisory" }.isEmpty)
        // Both recover: the incident closes once.
        try await report(storage, .healthy, from: [at("a"), at("b")], at: t0 + 4)
        #expect(try await storage.openIncidentCount() == 0)
        #expect(
            try await storage.allOutbox().filter { $0.kind == "transition" }.map(\.payload) == [
                "api healthy→down", "api down→healthy",
            ]
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func silentLocationsLeaveTheQuorum(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await report(
            storage,
            .healthy,
            from: [at("a", window: 30), at("b", window: 30), at("c", window: 30)],
            at: t0
        )
        // b and c have been silent for longer than the window: a alone is the fleet.
        try await report(storage, .down, from: [at("a", window: 30)], at: t0 + 100)
        let opened = try await report(storage, .down, from: [at("a", window: 30)], at: t0 + 101)
        #expect(opened[0].quorum?.live == ["a"])
        #expect(opened[0].transition?.kind == .opened)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aPropertysQuorumOverridesTheMajority(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await report(storage, .healthy, from: [at("a"), at("b"), at("c")], at: t0)
        try await report(storage, .down, from: [at("a", quorum: 1)], at: t0 + 1)
        let opened = try await report(storage, .down, from: [at("a", quorum: 1)], at: t0 + 2)
        #expect(opened[0].transition?.kind == .opened)
        #expect(opened[0].advisory == nil)
        withExtendedLifetime(keep) {}
    }

    @Test func theQuorumIsAMajorityOfLiveLocationsUnlessSet() {
        let now = t0
        func views(_ healths: [Health], lastSeen: Date? = nil) -> [LocationHealth] {
            healths.enumerated().map {
                LocationHealth(location: "l\($0.offset)", health: $0.element, lastSeen: lastSeen ?? now)
            }
        }
        let solo = LocationContext(name: "l0", liveWindow: 60)
        #expect(Quorum.decide(views([.down]), now: now, context: solo).health == .down)
        #expect(Quorum.decide(views([.down, .healthy]), now: now, context: solo).health == .healthy)
        #expect(Quorum.decide(views([.down, .down, .healthy]), now: now, context: solo).health == .down)
        #expect(Quorum.decide(views([.down, .degraded, .healthy]), now: now, context: solo).health == .degraded)
        #expect(Quorum.decide(views([.down, .healthy, .healthy, .healthy]), now: now, context: solo).required == 3)
        var one = solo
        one.quorum = 1
        #expect(Quorum.decide(views([.down, .healthy, .healthy]), now: now, context: one).health == .down)
        // A quorum larger than the live fleet is capped by it: a shrunken fleet still decides.
        var five = solo
        five.quorum = 5
        #expect(Quorum.decide(views([.down, .down]), now: now, context: five).health == .down)
        #expect(Quorum.decide(views([.down, .healthy], lastSeen: now - 120), now: now, context: solo).live.isEmpty)
    }
}
