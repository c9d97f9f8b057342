import Foundation
import Monitor
import Probing
import Testing

/// Locations and quorum together with correlation and the living message, on both backends: the quorum's
/// transition is `record`'s, so it joins the incident already open for the property's host and service, and a
/// location's advisory stays a post of its own when incidents have living messages.
@Suite struct QuorumCorrelationTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)
    let fleet = ["a", "b", "c"].map { LocationContext(name: $0, liveWindow: 60, quorum: nil) }

    func probe(_ property: String, _ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(
            property: property,
            url: "https://\(property).example/healthz",
            at: at,
            health: health,
            reasons: health == .healthy ? [] : ["HTTP 503"]
        )
    }

    /// Records `health` for `property` from each of `locations` at `time`; returns the fleet's transitions.
    @discardableResult
    func report(
        _ storage: any MonitorStorage,
        _ property: String,
        _ health: Health,
        from locations: [LocationContext],
        at time: Date,
        editMessages: Bool = false
    ) async throws -> [RecordOutcome] {
        var outcomes: [RecordOutcome] = []
        for location in locations {
            let outcome = try await storage.record(
                probe(property, health, time),
                at: location,
                policy: policy,
                incidentGroup: "default/core",
                now: time,
                message: AlertFormatter.transitionMessage(editMessages: editMessages)
            )
            if outcome.transition != nil { outcomes.append(outcome) }
        }
        return outcomes
    }

    @Test(arguments: StorageBackend.available)
    func aQuorumTransitionJoinsTheGroupsOpenIncidentAndTheLastRecoveryClosesIt(_ backend: StorageBackend)
        async throws
    {
        let (storage, keep) = try backend.make()
        for property in ["api", "web"] {
            try await report(storage, property, .healthy, from: fleet, at: t0)
        }
        var opened: [String: [RecordOutcome]] = [:]
        for property in ["api", "web"] {
            try await report(storage, property, .down, from: fleet, at: t0 + 1)
            opened[property] = try await report(storage, property, .down, from: fleet, at: t0 + 2)
        }
        let api = try #require(opened["api"]?.only)
        let web = try #require(opened["web"]?.only)
        #expect(api.transition?.to == .down && !api.joinedOpenIncident)
        #expect(web.transition?.to == .down && web.joinedOpenIncident)
        #expect(web.incident?.id == api.incident?.id)
        #expect(try await storage.incidents(for: nil).count == 1)

        // api recovers in the quorum's eyes: the incident stays open for web, then closes with it.
        let apiBack = try await report(storage, "api", .healthy, from: fleet, at: t0 + 3)
        #expect(apiBack.map(\.transition?.kind) == [.recovered])
        #expect(apiBack.first?.incident?.closedAt == nil)
        let webBack = try await report(storage, "web", .healthy, from: fleet, at: t0 + 4)
        #expect(webBack.map(\.transition?.kind) == [.recovered])
        #expect(webBack.first?.incident?.closedAt != nil)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func anAdvisoryIsAPostOfItsOwnWhenIncidentsHaveLivingMessages(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await report(storage, "api", .healthy, from: fleet, at: t0, editMessages: true)
        let alone = [fleet[0]]
        try await report(storage, "api", .down, from: alone, at: t0 + 1, editMessages: true)
        // Confirmed at the second failing probe; failing alone two probes later.
        for i in 2...4 { try await report(storage, "api", .down, from: alone, at: t0 + Double(i), editMessages: true) }
        let rows = try await storage.allOutbox()
        let advisory = try #require(rows.only)
        #expect(advisory.kind == "advisory")
        #expect(advisory.payload.contains("\"content\"") || advisory.payload.contains("\"embeds\""))
        #expect(!advisory.payload.contains("\"render\""))
        #expect(try await storage.incidents(for: "api").isEmpty)
        withExtendedLifetime(keep) {}
    }
}

extension Array {
    /// The one element, nil when there are none or several.
    fileprivate var only: Element? { count == 1 ? first : nil }
}
