import Foundation
import Monitor
import Probing
import Testing

/// Results kept while the store was unreachable and recorded late (`LocationContext.replay`), on both backends:
/// a location's backlog older than what the fleet has already recorded for the property decides nothing
/// (issue 13: after a PostgreSQL restart, old DOWN results replayed by late locations reopened the healed
/// incident).
@Suite struct QuorumReplayTests {
    /// The probes, policy and messages of `QuorumTests`.
    let quorum = QuorumTests()
    var t0: Date { quorum.t0 }

    func at(_ name: String, replay: Bool = false) -> LocationContext {
        LocationContext(name: name, liveWindow: 3, replay: replay)
    }

    @discardableResult
    func record(_ storage: any MonitorStorage, _ health: Health, from location: LocationContext, at time: Date)
        async throws -> RecordOutcome
    {
        try await storage.record(
            quorum.probe(health, time),
            at: location,
            policy: quorum.policy,
            now: time,
            message: quorum.render
        )
    }

    @Test(arguments: StorageBackend.available)
    func oldDownsReplayedAfterTheFleetHealedOpenNothing(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for name in ["a", "b", "c"] { try await record(storage, .healthy, from: at(name), at: t0) }
        // The store was unreachable from t0+1 to t0+10 while every location saw the target down. a is first to
        // reach it again: its backlog opens the incident, and its first fresh result (the target healed
        // meanwhile) closes it.
        for i in 1...10 { try await record(storage, .down, from: at("a", replay: true), at: t0 + Double(i)) }
        try await record(storage, .healthy, from: at("a"), at: t0 + 20)
        #expect(try await storage.incidents(for: "api").count == 1)
        #expect(try await storage.openIncidentCount() == 0)
        // b and c replay their backlogs after that, interleaved: all of it older than the fleet's newest record.
        var replayed: [RecordOutcome] = []
        for i in 1...10 {
            for name in ["b", "c"] {
                replayed.append(try await record(storage, .down, from: at(name, replay: true), at: t0 + Double(i)))
            }
        }
        #expect(replayed.allSatisfy { $0.transition == nil && $0.advisory == nil && $0.superseded })
        // Their fresh results, and a's next one, find the fleet healthy: nothing reopens.
        for name in ["b", "c", "a"] {
            let fresh = try await record(storage, .healthy, from: at(name), at: t0 + 21)
            #expect(fresh.transition == nil && fresh.advisory == nil && !fresh.superseded)
        }
        #expect(try await storage.incidents(for: "api").count == 1)
        #expect(try await storage.openIncidentCount() == 0)
        #expect(try await storage.state(of: "api")?.health == .healthy)
        let posted = try await storage.allOutbox()
        #expect(posted.filter { $0.kind == "advisory" }.isEmpty, "\(posted.map(\.payload))")
        #expect(
            posted.filter { $0.kind == "transition" }.map(\.payload) == ["api healthy→down", "api down→healthy"],
            "\(posted.map(\.payload))"
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aLateLocationsBacklogKeepsARealOutageOpen(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for name in ["a", "b", "c"] { try await record(storage, .healthy, from: at(name), at: t0) }
        // a's backlog opens the incident (b and c, silent, have left the quorum by then).
        for i in 1...10 { try await record(storage, .down, from: at("a", replay: true), at: t0 + Double(i)) }
        #expect(try await storage.openIncidentCount() == 1)
        // b's backlog is older than that, but it is what b saw: its first fresh probe, still down, agrees with
        // a, and the outage stays open (were b's backlog dropped, b would start over from healthy before the
        // outage and the fleet would call the property healed).
        for i in 1...9 {
            let step = try await record(storage, .down, from: at("b", replay: true), at: t0 + Double(i))
            #expect(step.superseded && step.transition == nil)
        }
        let fresh = try await record(storage, .down, from: at("b"), at: t0 + 11)
        #expect(fresh.transition == nil, "\(String(describing: fresh.transition))")
        #expect(try await storage.openIncidentCount() == 1)
        #expect(try await storage.state(of: "api")?.health == .down)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func backlogsNewerThanTheFleetsNewestRecordStillDecide(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for name in ["a", "b"] { try await record(storage, .healthy, from: at(name), at: t0) }
        // Two locations replay the same outage side by side, in time order: it is recorded, once.
        var transitions: [Transition] = []
        for i in 1...3 {
            for name in ["a", "b"] {
                let step = try await record(storage, .down, from: at(name, replay: true), at: t0 + Double(i))
                #expect(!step.superseded)
                transitions += step.transition.map { [$0] } ?? []
            }
        }
        #expect(transitions == [Transition(from: .healthy, to: .down)])
        #expect(try await storage.openIncidentCount() == 1)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aLiveResultOutOfOrderIsNeverSuperseded(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for name in ["a", "b"] { try await record(storage, .healthy, from: at(name), at: t0) }
        // A slow (timed-out) probe from a is recorded after b's faster, later one: it still counts.
        try await record(storage, .healthy, from: at("b"), at: t0 + 5)
        let late = try await record(storage, .down, from: at("a"), at: t0 + 4)
        #expect(!late.superseded)
        #expect(try await storage.state(of: "api")?.lastResult?.at == t0 + 4)
        withExtendedLifetime(keep) {}
    }
}
