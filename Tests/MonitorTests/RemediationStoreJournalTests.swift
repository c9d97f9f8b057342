import ActionKit
import Foundation
import Logging
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor
@testable import Remediation

/// The journal on the monitor's real SQLite store (issue 4's `MonitorStore` and outbox).
@Suite("Remediation journal on the monitor store")
struct RemediationStoreJournalTests {
    /// A fresh monitor store with one open incident, and the production journal over it.
    typealias Fixture = TestJournal

    @Test("entries and notices land together; the page sets paged_at once and is never written twice")
    func journalAndPageOnce() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let id = fixture.incidentID
        try await fixture.journal.append(
            .init(incidentID: id, kind: .action, tool: "restart_api_core", actionKind: .remediation, roundCost: 1),
            notice: RemediationNotice(incidentID: id, property: "api-core", content: "ran restart <@999> @everyone")
        )
        let page = RemediationNotice(incidentID: id, property: "api-core", content: "<@42> help", mentionUserID: "42")
        #expect(try await fixture.journal.page(.init(incidentID: id, kind: .paged, reason: "exhausted"), notice: page))
        #expect(!(try await fixture.journal.page(.init(incidentID: id, kind: .paged, reason: "again"), notice: page)))

        let rows = try fixture.store.allOutbox().filter { $0.kind != "transition" }
        #expect(rows.map(\.kind) == ["remediation", "page"])
        let progress = try #require(
            try JSONSerialization.jsonObject(with: Data(rows[0].payload.utf8)) as? [String: Any]
        )
        #expect((progress["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
        #expect((progress["allowed_mentions"] as? [String: Any])?["users"] == nil)
        let paged = try #require(try JSONSerialization.jsonObject(with: Data(rows[1].payload.utf8)) as? [String: Any])
        #expect((paged["allowed_mentions"] as? [String: Any])?["users"] as? [String] == ["42"])
        #expect(try fixture.store.incident(id: fixture.incidentID)?.pagedAt != nil)

        let reread = try await fixture.reopened().entries(for: id)
        #expect(reread.map(\.kind) == [.action, .paged])
        #expect(reread.first?.tool == "restart_api_core")
        let events = try fixture.store.incidentEvents(incidentID: fixture.incidentID).map(\.kind)
        #expect(events == ["transition", "remediation.action", "remediation.paged"])
    }

    @Test("a page already on the incident (e.g. queued before a crash) counts: the engine does not page again")
    func foreignPageIsHonoured() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        #expect(
            try await fixture.store.pageOnce(
                incidentID: fixture.incidentID,
                kind: "note",
                payload: .object([:]),
                at: Date(),
                page: DiscordMessage.page(userID: "42", text: "host unreachable")
            )
        )
        let world = FakeWorld(healingAction: "restart_api_core")
        var incidentValue = testIncident
        incidentValue.id = fixture.incidentID
        let incident = incidentValue
        let outcome = try await remediate(world, journal: fixture.journal, incident: incident)
        #expect(outcome == .alreadyPaged)
        #expect(world.runs.isEmpty)
        #expect(try fixture.store.allOutbox().filter { $0.kind == "page" }.count == 1)
    }

    @Test("the engine over the real store heals by the ladder and journals every step")
    func engineOverStore() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let world = FakeWorld(healingAction: "restart_api_core")
        var incidentValue = testIncident
        incidentValue.id = fixture.incidentID
        let incident = incidentValue
        let outcome = try await remediate(world, journal: fixture.journal, incident: incident)
        #expect(outcome == .healed(path: .ladder, rounds: 1))
        let kinds = try fixture.store.incidentEvents(incidentID: fixture.incidentID).map(\.kind)
        #expect(
            kinds == [
                "transition",  // the incident was opened by two failed probes
                "remediation.started", "remediation.note",
                "remediation.action", "remediation.actionResult",  // the diagnostic, read before acting
                "remediation.action", "remediation.actionResult", "remediation.reprobe", "remediation.healed",
            ]
        )
        #expect(try fixture.store.incident(id: fixture.incidentID)?.pagedAt == nil)
        #expect(try fixture.store.allOutbox().dropFirst().allSatisfy { $0.kind == "remediation" })
    }

    @Test("the shipped example configuration's remediation settings are valid")
    func exampleConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try ConfigLoader.load(path: root.appendingPathComponent("config/monitor.example.yaml").path)
        let settings = config.remediation
        #expect(settings.model == "gpt-4o-mini")
        #expect(settings.settle == .seconds(20))
        #expect(config.properties.contains { !$0.alertOnly && $0.service == "api-core" })
    }
}
