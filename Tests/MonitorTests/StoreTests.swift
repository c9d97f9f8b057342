import ActionKit
import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing

/// A real SQLite file per test.
final class TempDir: Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-mon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var dbPath: String { url.appendingPathComponent("state.sqlite").path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite struct StoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy()

    func result(_ health: Health, at: Date) -> ProbeResult {
        ProbeResult(
            property: "api",
            url: "https://api.zumik.ai/healthz",
            at: at,
            health: health,
            reasons: health == .healthy ? [] : ["unexpected status 503 (expected 200)"],
            status: health == .healthy ? 200 : 503
        )
    }

    @Test func transitionIncidentAndOutboxRowArePersistedTogether() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let first = try await store.record(
            result(.down, at: t0),
            policy: policy,
            now: t0,
            message: AlertFormatter.message
        )
        #expect(first.transition == nil)
        #expect(first.outboxID == nil)
        #expect(try store.allOutbox().isEmpty)
        let second = try await store.record(
            result(.down, at: t0 + 10),
            policy: policy,
            now: t0 + 10,
            message: AlertFormatter.message
        )
        #expect(second.transition?.kind == .opened)
        let incident = try #require(second.incident)
        #expect(incident.property == "api")
        #expect(incident.closedAt == nil)
        let rows = try store.allOutbox()
        #expect(rows.count == 1)
        #expect(rows[0].incidentID == incident.id)
        #expect(rows[0].payload.contains("api is DOWN"))

        // Reopen the file: the state and the open incident survive.
        let reopened = try MonitorStore(path: dir.dbPath)
        let state = try #require(try reopened.state(of: "api"))
        #expect(state.health == .down)
        #expect(state.openIncidentID == incident.id)
        #expect(try reopened.openIncident(for: "api")?.id == incident.id)

        // A further down probe does not alert again; recovery closes the incident with a duration.
        let again = try await reopened.record(
            result(.down, at: t0 + 70),
            policy: policy,
            now: t0 + 70,
            message: AlertFormatter.message
        )
        #expect(again.transition == nil)
        let recovered = try await reopened.record(
            result(.healthy, at: t0 + 130),
            policy: policy,
            now: t0 + 130,
            message: AlertFormatter.message
        )
        #expect(recovered.transition?.kind == .recovered)
        #expect(recovered.incident?.duration == 120)
        let all = try reopened.allOutbox()
        #expect(all.count == 2)
        #expect(all[1].payload.contains("2m 0s"))
        #expect(try reopened.openIncident(for: "api") == nil)
        let events = try reopened.incidentEvents(incidentID: incident.id)
        #expect(events.map(\.kind) == ["transition", "transition"])
    }

    @Test func silencedTransitionsAreTrackedNotAlertedAndAnnouncedOnExpiry() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        try await store.silence("api", until: t0 + 300, now: t0)
        _ = try await store.record(result(.down, at: t0), policy: policy, now: t0, message: AlertFormatter.message)
        let opened = try await store.record(
            result(.down, at: t0 + 10),
            policy: policy,
            now: t0 + 10,
            message: AlertFormatter.message
        )
        #expect(opened.transition?.kind == .opened)
        #expect(opened.silenced)
        #expect(opened.outboxID == nil)
        #expect(try store.allOutbox().isEmpty)
        #expect(try store.state(of: "api")?.announced == .healthy)

        // Not expired yet: nothing happens.
        let early = try await store.endSilence("api", now: t0 + 100, force: false, message: AlertFormatter.message)
        #expect(early == nil)
        // Expired while still down: the state is announced once.
        let ended = try await store.endSilence("api", now: t0 + 301, force: false, message: AlertFormatter.message)
        #expect(ended?.transition == Transition(from: .healthy, to: .down))
        let rows = try store.allOutbox()
        #expect(rows.count == 1)
        #expect(rows[0].payload.contains("state changed during maintenance"))
        #expect(try store.state(of: "api")?.silencedUntil == nil)
        // Ending again announces nothing more.
        let twice = try await store.endSilence("api", now: t0 + 302, force: true, message: AlertFormatter.message)
        #expect(twice == nil)
        #expect(try store.allOutbox().count == 1)
    }

    @Test func silenceThatEndsInTheSameStateAnnouncesNothing() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        try await store.silence("api", until: t0 + 300, now: t0)
        for i in 0..<2 {
            _ = try await store.record(
                result(.down, at: t0 + Double(i)),
                policy: policy,
                now: t0 + Double(i),
                message: AlertFormatter.message
            )
        }
        _ = try await store.record(
            result(.healthy, at: t0 + 5),
            policy: policy,
            now: t0 + 5,
            message: AlertFormatter.message
        )
        _ = try await store.endSilence("api", now: t0 + 400, force: false, message: AlertFormatter.message)
        #expect(try store.allOutbox().isEmpty)
        #expect(try store.incidents(for: "api").count == 1)
    }

    @Test func pageIsWrittenAtMostOncePerIncident() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        for i in 0..<2 {
            _ = try await store.record(
                result(.down, at: t0 + Double(i)),
                policy: policy,
                now: t0 + Double(i),
                message: AlertFormatter.message
            )
        }
        let incident = try #require(try store.openIncident(for: "api"))
        let page = DiscordMessage.page(userID: "123456789012345678", text: "api is down and automation gave up")
        func pageOnce(_ store: MonitorStore) async throws -> Bool {
            try await store.pageOnce(
                incidentID: incident.id,
                kind: "remediation.paged",
                payload: .object(["reason": .string("automation gave up")]),
                at: Date(),
                page: page
            )
        }
        #expect(try await pageOnce(store))
        let reopened = try MonitorStore(path: dir.dbPath)
        #expect(try await pageOnce(reopened) == false)
        #expect(
            try reopened.incidentEvents(incidentID: incident.id).filter { $0.kind == "remediation.paged" }.count == 1
        )
        let pages = try reopened.allOutbox().filter { $0.kind == "page" }
        #expect(pages.count == 1)
        #expect(pages[0].payload.contains(#""users":["123456789012345678"]"#))
        #expect(try reopened.incident(id: incident.id)?.pagedAt != nil)
    }

    @Test func remediationRecordsAppendToIncident() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        for i in 0..<2 {
            _ = try await store.record(
                result(.down, at: t0 + Double(i)),
                policy: policy,
                now: t0 + Double(i),
                message: AlertFormatter.message
            )
        }
        let incident = try #require(try store.openIncident(for: "api"))
        try await store.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation",
            payload: .object(["action": .string("restart_api_core"), "result": .string("ok")]),
            at: Date()
        )
        let events = try store.incidentEvents(incidentID: incident.id)
        #expect(events.last?.kind == "remediation")
        #expect(events.last?.payload == .object(["action": .string("restart_api_core"), "result": .string("ok")]))
    }
}

@Suite struct OutboxSeamTests {
    @Test func noticeQueuedWithAnIncidentRecordIsDeliveredLikeAnyAlert() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)
        var opened: RecordOutcome?
        for i in 0..<2 {
            let at = Date().addingTimeInterval(Double(i) - 10)
            opened = try await store.record(
                ProbeResult(property: "api", url: "https://api.example", at: at, health: .down),
                policy: policy,
                now: at,
                message: AlertFormatter.message
            )
        }
        let incident = try #require(opened?.incident)
        // The remediation journal writes its record and its Discord message in one transaction.
        try await store.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation.action",
            payload: .object(["tool": .string("restart_api_core")]),
            at: Date(),
            notice: DiscordMessage(content: "Restarted api-core (round 1/3)"),
            noticeKind: "remediation"
        )
        let lines = Mutex<[String]>([])
        let sender = AlertSender(
            store: store,
            transport: CurlEngine(maxInFlight: 2),
            webhookURL: nil,
            signal: WakeSignal(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            console: { line in lines.withLock { $0.append(line) } }
        )
        #expect(try await sender.deliverDue() == 2)
        #expect(lines.withLock { $0.last } == "[zumik-monitor alert] Restarted api-core (round 1/3)")
        let row = try #require(try store.allOutbox().last)
        #expect(row.kind == "remediation")
        #expect(row.incidentID == incident.id)
        #expect(row.deliveredAt != nil)
    }

    @Test func recordForAMissingIncidentLeavesNoOutboxRow() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        await #expect(throws: (any Error).self) {
            try await store.appendIncidentEvent(
                incidentID: 41,
                kind: "remediation.action",
                payload: .object([:]),
                at: Date(),
                notice: DiscordMessage(content: "x"),
                noticeKind: "remediation"
            )
        }
        #expect(try store.allOutbox().isEmpty)
        #expect(try store.incidentEvents(incidentID: 41).isEmpty)
    }
}
