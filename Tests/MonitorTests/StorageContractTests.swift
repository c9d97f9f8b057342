import ActionKit
import Foundation
import Monitor
import Probing
import Testing

/// A storage backend under test: each call gives a fresh, empty store. Both backends run the same contract;
/// PostgreSQL's cases are left out (with a printed reason) only where PostgreSQL is not installed.
enum StorageBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The backends this machine can run.
    static var available: [StorageBackend] {
        PostgresTestStore.unavailableReason == nil ? allCases : [.sqlite]
    }

    /// A fresh store, and what keeps it alive (a temporary directory for SQLite, the pool for PostgreSQL).
    func make() throws -> (storage: any MonitorStorage, keep: AnyObject) {
        switch self {
        case .sqlite:
            let dir = try TempDir()
            return (try MonitorStore(path: dir.dbPath), dir)
        case .postgres:
            let database = try PostgresTestStore()
            return (database.store, database)
        }
    }
}

/// An opaque rendered message: the store keeps and returns bytes, whatever they say.
struct PlainMessage: OutboxMessage {
    var text: String
    var body: [UInt8] { Array(text.utf8) }
}

/// The `MonitorStorage` contract, only through the protocol: every domain operation and its atomicity.
@Suite struct StorageContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func probe(_ health: Health, _ at: Date, property: String = "api") -> ProbeResult {
        ProbeResult(property: property, url: "https://\(property).example/healthz", at: at, health: health)
    }

    func render(_ event: AlertEvent) -> any OutboxMessage {
        PlainMessage(text: "\(event.result.property) \(event.transition.from.rawValue)→\(event.transition.to.rawValue)")
    }

    /// Two failed probes: the incident is open.
    func openIncident(_ storage: any MonitorStorage, property: String = "api") async throws -> Incident {
        _ = try await storage.record(probe(.down, t0, property: property), policy: policy, now: t0, message: render)
        let opened = try await storage.record(
            probe(.down, t0 + 1, property: property),
            policy: policy,
            now: t0 + 1,
            message: render
        )
        return try #require(opened.incident)
    }

    @Test(arguments: StorageBackend.available)
    func recordOpensAnIncidentWithItsTransitionAndAlertTogether(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let first = try await storage.record(probe(.down, t0), policy: policy, now: t0, message: render)
        #expect(first.transition == nil)
        #expect(try await storage.allOutbox().isEmpty)
        let second = try await storage.record(probe(.down, t0 + 1), policy: policy, now: t0 + 1, message: render)
        let incident = try #require(second.incident)
        #expect(second.transition?.kind == .opened)
        #expect(try await storage.openIncident(for: "api") == incident)
        #expect(try await storage.openIncidentCount() == 1)
        #expect(try await storage.incidentEvents(incidentID: incident.id).map(\.kind) == ["transition"])
        let rows = try await storage.allOutbox()
        #expect(rows.map(\.payload) == ["api healthy→down"])
        #expect(rows.map(\.incidentID) == [incident.id])
        #expect(rows.map(\.id) == [second.outboxID])
        #expect(try await storage.state(of: "api")?.openIncidentID == incident.id)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func recoveryClosesTheIncident(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let incident = try await openIncident(storage)
        let healed = try await storage.record(probe(.healthy, t0 + 5), policy: policy, now: t0 + 5, message: render)
        #expect(healed.transition?.kind == .recovered)
        #expect(try await storage.incident(id: incident.id)?.closedAt == t0 + 5)
        #expect(try await storage.openIncidentCount() == 0)
        #expect(try await storage.incidents(for: "api").count == 1)
        #expect(try await storage.allOutbox().map(\.payload) == ["api healthy→down", "api down→healthy"])
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aSilencedTransitionQueuesNothingAndIsAnnouncedWhenTheSilenceEnds(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        try await storage.silence("api", until: t0 + 100, now: t0)
        _ = try await openIncidentSilently(storage)
        #expect(try await storage.allOutbox().isEmpty)
        #expect(try await storage.endSilence("api", now: t0 + 50, force: false, message: render) == nil)
        let ended = try #require(try await storage.endSilence("api", now: t0 + 50, force: true, message: render))
        #expect(ended.transition == Transition(from: .healthy, to: .down))
        #expect(try await storage.allOutbox().map(\.payload) == ["api healthy→down"])
        withExtendedLifetime(keep) {}
    }

    func openIncidentSilently(_ storage: any MonitorStorage) async throws -> RecordOutcome {
        _ = try await storage.record(probe(.down, t0 + 1), policy: policy, now: t0 + 1, message: render)
        let outcome = try await storage.record(probe(.down, t0 + 2), policy: policy, now: t0 + 2, message: render)
        #expect(outcome.silenced)
        return outcome
    }

    @Test(arguments: StorageBackend.available)
    func anIncidentRecordAndItsNoticeCommitTogetherOrNotAtAll(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let incident = try await openIncident(storage)
        try await storage.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation.action",
            payload: .object(["tool": .string("restart_api_core")]),
            at: t0 + 2,
            notice: PlainMessage(text: "restarting"),
            noticeKind: "remediation"
        )
        let events = try await storage.incidentEvents(incidentID: incident.id)
        #expect(events.last?.payload == .object(["tool": .string("restart_api_core")]))
        #expect(try await storage.allOutbox().last?.kind == "remediation")
        await #expect(throws: (any Error).self) {
            try await storage.appendIncidentEvent(
                incidentID: IncidentID(incident.id.rawValue + 100),
                kind: "remediation.action",
                payload: .null,
                at: t0 + 3,
                notice: PlainMessage(text: "orphan"),
                noticeKind: "remediation"
            )
        }
        #expect(try await storage.allOutbox().count == 2)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func anIncidentIsPagedAtMostOnce(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let incident = try await openIncident(storage)
        for expected in [true, false] {
            let paged = try await storage.pageOnce(
                incidentID: incident.id,
                kind: "remediation.paged",
                payload: .object([:]),
                at: t0 + 9,
                page: PlainMessage(text: "<@42> help")
            )
            #expect(paged == expected)
        }
        #expect(try await storage.incident(id: incident.id)?.pagedAt == t0 + 9)
        #expect(try await storage.allOutbox().filter { $0.kind == "page" }.count == 1)
        #expect(
            try await storage.incidentEvents(incidentID: incident.id).filter { $0.kind == "remediation.paged" }.count
                == 1
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aRowWaitingForARetryHoldsBackTheOnesAfterIt(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let first = try await storage.enqueue(PlainMessage(text: "one"), kind: "test", incidentID: nil, now: t0)
        let second = try await storage.enqueue(PlainMessage(text: "two"), kind: "test", incidentID: nil, now: t0)
        #expect(try await storage.dueOutbox(now: t0, limit: 20).map(\.id) == [first, second])
        try await storage.scheduleRetry(first, at: t0 + 30, error: "HTTP 503")
        #expect(try await storage.dueOutbox(now: t0 + 1, limit: 20).isEmpty)
        #expect(try await storage.nextOutboxDue() == t0 + 30)
        try await storage.markDelivered(first, at: t0 + 31)
        try await storage.markFailed(second, at: t0 + 32, error: "HTTP 400")
        #expect(try await storage.dueOutbox(now: t0 + 40, limit: 20).isEmpty)
        #expect(try await storage.nextOutboxDue() == nil)
        let rows = try await storage.allOutbox()
        #expect(rows.map(\.attempts) == [2, 1])
        #expect(rows[0].deliveredAt == t0 + 31 && rows[0].lastError == nil)
        #expect(rows[1].failedAt == t0 + 32 && rows[1].lastError == "HTTP 400")
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func pagesAndTransitionsGoAheadOfNarration(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let narration = try await storage.enqueue(
            PlainMessage(text: "n"),
            kind: "remediation",
            incidentID: nil,
            now: t0
        )
        let incident = try await openIncident(storage)
        _ = try await storage.pageOnce(
            incidentID: incident.id,
            kind: "remediation.paged",
            payload: .object([:]),
            at: t0 + 2,
            page: PlainMessage(text: "<@42> help")
        )
        let due = try await storage.dueOutbox(now: t0 + 10, limit: 20)
        #expect(due.map(\.payload) == ["api healthy→down", "<@42> help", "n"])
        // Narration waiting for a retry holds back only narration.
        try await storage.scheduleRetry(narration, at: t0 + 60, error: "429 rate limited")
        #expect(
            try await storage.dueOutbox(now: t0 + 10, limit: 20).map(\.payload) == ["api healthy→down", "<@42> help"]
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func parkedRowsCanBeQueuedAgain(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        var ids: [Int64] = []
        for text in ["one", "two", "three"] {
            ids.append(try await storage.enqueue(PlainMessage(text: text), kind: "test", incidentID: nil, now: t0))
        }
        try await storage.markDelivered(ids[0], at: t0 + 1)
        try await storage.markFailed(ids[1], at: t0 + 2, error: "HTTP 404")
        try await storage.markFailed(ids[2], at: t0 + 3, error: "HTTP 404")
        #expect(try await storage.requeueFailed([ids[0], ids[2]], now: t0 + 10) == [ids[2]])
        #expect(try await storage.dueOutbox(now: t0 + 10, limit: 20).map(\.id) == [ids[2]])
        #expect(try await storage.requeueFailed(nil, now: t0 + 20) == [ids[1]])
        #expect(try await storage.dueOutbox(now: t0 + 20, limit: 20).map(\.id) == [ids[1], ids[2]])
        #expect(try await storage.requeueFailed(nil, now: t0 + 30).isEmpty)
        #expect(try await storage.allOutbox().allSatisfy { $0.failedAt == nil })
        withExtendedLifetime(keep) {}
    }
}
