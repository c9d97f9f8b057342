import ActionKit
import Foundation
import GRDB
import Logging
import Testing
import ZumikTestSupport

@testable import Monitor

/// The journal on the monitor's real SQLite store (issue 4's `MonitorStore` and outbox).
@Suite("Remediation journal on the monitor store")
struct RemediationStoreJournalTests {
    struct Fixture {
        let directory: URL
        let store: MonitorStore
        let journal: MonitorStoreJournal
        let incidentID: Int64

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-remstore-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try MonitorStore(path: directory.appendingPathComponent("state.sqlite").path)
            journal = MonitorStoreJournal(store: store, outbox: AlertOutbox(store: store, signal: WakeSignal()))
            incidentID = try store.pool.write { db in
                try db.execute(
                    sql: "INSERT INTO incidents (property, opened_at, health) VALUES ('api-core', ?, 'down')",
                    arguments: [Date().timeIntervalSince1970]
                )
                return db.lastInsertedRowID
            }
        }

        func reopened() throws -> MonitorStoreJournal {
            let store = try MonitorStore(path: directory.appendingPathComponent("state.sqlite").path)
            return MonitorStoreJournal(store: store, outbox: AlertOutbox(store: store, signal: WakeSignal()))
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test("entries and notices land together; the page sets paged_at once and is never written twice")
    func journalAndPageOnce() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let id = String(fixture.incidentID)
        try await fixture.journal.append(
            .init(incidentID: id, kind: .action, tool: "restart_api_core", actionKind: .remediation, roundCost: 1),
            notice: RemediationNotice(incidentID: id, property: "api-core", content: "ran restart <@999> @everyone")
        )
        let page = RemediationNotice(incidentID: id, property: "api-core", content: "<@42> help", mentionUserID: "42")
        #expect(try await fixture.journal.page(.init(incidentID: id, kind: .paged, reason: "exhausted"), notice: page))
        #expect(!(try await fixture.journal.page(.init(incidentID: id, kind: .paged, reason: "again"), notice: page)))

        let rows = try fixture.store.allOutbox()
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
        #expect(events == ["remediation.action", "remediation.paged"])
    }

    @Test("a page the monitor sent by another path counts: the engine does not page again")
    func foreignPageIsHonoured() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        #expect(
            try await fixture.store.markPaged(
                incidentID: fixture.incidentID,
                message: .page(userID: "42", text: "host unreachable")
            )
        )
        let world = FakeWorld(healingAction: "restart_api_core")
        var incidentValue = testIncident
        incidentValue.id = String(fixture.incidentID)
        let incident = incidentValue
        let outcome = try await world.serveAgent { agentURL in
            await makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: fixture.journal,
                world: world,
                clock: ImmediateClock()
            )
            .respond(to: incident)
        }
        #expect(outcome == .alreadyPaged)
        #expect(world.runs.isEmpty)
        #expect(try fixture.store.allOutbox().filter { $0.kind == "page" }.count == 1)
    }

    @Test("the engine over the real store heals by the ladder and journals every step")
    func engineOverStore() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let world = FakeWorld(healingAction: "restart_api_core")
        var incidentValue = testIncident
        incidentValue.id = String(fixture.incidentID)
        let incident = incidentValue
        let outcome = try await world.serveAgent { agentURL in
            await makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: fixture.journal,
                world: world,
                clock: ImmediateClock()
            )
            .respond(to: incident)
        }
        #expect(outcome == .healed(path: .ladder, rounds: 1))
        let kinds = try fixture.store.incidentEvents(incidentID: fixture.incidentID).map(\.kind)
        #expect(
            kinds == [
                "remediation.started", "remediation.note", "remediation.action", "remediation.actionResult",
                "remediation.reprobe", "remediation.healed",
            ]
        )
        #expect(try fixture.store.incident(id: fixture.incidentID)?.pagedAt == nil)
        #expect(try fixture.store.allOutbox().allSatisfy { $0.kind == "remediation" })
    }

    @Test("remediation settings: defaults, values, and errors that name the key")
    func settings() throws {
        #expect(try RemediationSettings(json: nil) == RemediationSettings())
        let custom = try RemediationSettings(
            json: .object([
                "model": .string("gpt-4.1-mini"), "base_url": .string("http://127.0.0.1:9/v1"),
                "settle_seconds": .number(5),
            ])
        )
        #expect(custom.model == "gpt-4.1-mini")
        #expect(custom.settle == .seconds(5))
        let cases: [(JSONValue, String)] = [
            (.object(["modle": .string("x")]), "remediation.modle"),
            (.object(["base_url": .string("ftp://x")]), "remediation.base_url"),
            (.object(["settle_seconds": .number(-1)]), "remediation.settle_seconds"),
            (.object(["model": .number(3)]), "remediation.model"),
            (.string("yes"), "remediation"),
        ]
        for (json, key) in cases {
            #expect(throws: RemediationSettings.Error.self) { try RemediationSettings(json: json) }
            do {
                _ = try RemediationSettings(json: json)
            } catch {
                #expect(error.keyPath == key)
            }
        }
    }

    @Test("the shipped example configuration's remediation settings are valid")
    func exampleConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try ConfigLoader.load(path: root.appendingPathComponent("config/monitor.example.yaml").path)
        let settings = try RemediationSettings(json: config.remediation)
        #expect(settings.model == "gpt-4o-mini")
        #expect(settings.settle == .seconds(20))
        #expect(config.properties.contains { !$0.alertOnly && $0.service == "api-core" })
    }
}
