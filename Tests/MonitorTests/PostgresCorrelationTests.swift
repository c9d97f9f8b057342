import ActionKit
import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// What PostgreSQL adds to correlation, living messages and reminders: several monitors on one database
/// changing one incident together, each change once.
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresCorrelationTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func record(_ store: PostgresStore, _ property: String, _ health: Health, _ at: Date, group: String)
        async throws -> RecordOutcome
    {
        try await store.record(
            ProbeResult(property: property, url: "https://\(property).example/", at: at, health: health),
            policy: policy,
            incidentGroup: group,
            now: at,
            message: { _ in IncidentMessageRender() }
        )
    }

    /// Records `health` for two properties of `group` at once, one on each monitor.
    func together(_ a: PostgresStore, _ b: PostgresStore, _ health: Health, _ at: Date, group: String)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { _ = try await self.record(a, "\(group)-a", health, at, group: group) }
            tasks.addTask { _ = try await self.record(b, "\(group)-b", health, at, group: group) }
            try await tasks.waitForAll()
        }
    }

    @Test func twoPropertiesOfOneServiceDownOnTwoMonitorsAtOnceShareOneIncidentAndOneRenderRow() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        for round in 0..<12 {
            let group = "host/svc\(round)"
            try await together(database.store, other.store, .down, t0, group: group)
            try await together(database.store, other.store, .down, t0 + 1, group: group)
            let a = try #require(try await database.store.openIncident(for: "\(group)-a"))
            #expect(try await other.store.openIncident(for: "\(group)-b")?.id == a.id, "round \(round)")
            let renders = try await database.store.allOutbox().filter { $0.incidentID == a.id }
            #expect(renders.map(\.kind) == ["incident"], "round \(round)")
        }
        #expect(try await database.store.openIncidentCount() == 12)
    }

    @Test func twoMembersRecoveringOnTwoMonitorsAtOnceCloseTheirIncident() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        for round in 0..<12 {
            let group = "host/svc\(round)"
            for at in [t0, t0 + 1] {
                _ = try await record(database.store, "\(group)-a", .down, at, group: group)
                _ = try await record(database.store, "\(group)-b", .down, at, group: group)
            }
            let incident = try #require(try await database.store.openIncident(for: "\(group)-a"))
            try await together(database.store, other.store, .healthy, t0 + 2, group: group)
            #expect(try await database.store.incident(id: incident.id)?.closedAt == t0 + 2, "round \(round)")
        }
        #expect(try await database.store.openIncidentCount() == 0)
    }

    @Test func twoMonitorsRemindingAtOnceRemindOnce() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        for at in [t0, t0 + 1] { _ = try await record(database.store, "api", .down, at, group: "host/api") }
        let incident = try #require(try await database.store.openIncident(for: "api"))
        _ = try await database.store.pageOnce(
            incidentID: incident.id,
            kind: "remediation.paged",
            payload: .object([:]),
            at: t0 + 2,
            page: PlainMessage(text: "page")
        )
        let reminded = try await withThrowingTaskGroup(of: [IncidentID].self) { tasks in
            for store in [database.store, other.store, database.store, other.store] {
                tasks.addTask {
                    try await store.remindDue(now: self.t0 + 1802, every: 1800) { _ in PlainMessage(text: "remind") }
                }
            }
            return try await tasks.reduce(into: []) { $0 += $1 }
        }
        #expect(reminded == [incident.id])
        #expect(try await database.store.allOutbox().filter { $0.kind == "reminder" }.count == 1)
        let events = try await database.store.incidentEvents(incidentID: incident.id)
        #expect(events.filter { $0.kind == "reminder" }.map(\.notice) == ["remind"])
    }
}
