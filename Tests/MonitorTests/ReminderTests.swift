import ActionKit
import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// While a paged incident stays unresolved, the on-call human gets a reminder without a mention every
/// `paging.reminder_minutes` (default 30, 0 = off). The service's clock is injected: no waiting.
/// The service's `now`, moved by the test.
final class TestClock: Sendable {
    let date: Mutex<Date>
    init(_ date: Date) { self.date = Mutex(date) }
    func set(_ value: Date) { date.withLock { $0 = value } }
    var now: Date { date.withLock { $0 } }
}

@Suite struct ReminderTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    /// A service on a store with one open incident of `api`, paged at `t0`; `clock` is its `now`.
    func service(reminderMinutes: Int?, clock: TestClock) async throws -> (MonitorService, MonitorStore, TempDir) {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        var config = MonitorConfig(
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: "http://127.0.0.1:9/")]
        )
        if let reminderMinutes { config.onCall.reminderMinutes = reminderMinutes }
        let service = MonitorService(
            config: config,
            store: store,
            transport: CurlEngine(maxInFlight: 2),
            outbox: AlertOutbox(store: store, signal: WakeSignal()),
            logger: quietLogger,
            now: { clock.now }
        )
        for at in [t0 - 2, t0 - 1] {
            _ = try await store.record(
                ProbeResult(property: "api", url: "http://127.0.0.1:9/", at: at, health: .down),
                policy: policy,
                now: at,
                message: AlertFormatter.message(for:)
            )
        }
        let incident = try #require(try store.openIncident(for: "api"))
        let paged = try await store.pageOnce(
            incidentID: incident.id,
            kind: "remediation.paged",
            payload: .object([:]),
            at: t0,
            page: DiscordMessage.page(userID: "123456789012345678", text: "api is down")
        )
        #expect(paged)
        return (service, store, dir)
    }

    func reminders(_ store: MonitorStore) throws -> [OutboxRow] {
        try store.allOutbox().filter { $0.kind == "reminder" }
    }

    @Test("every 30 minutes by default, without a mention, until the incident resolves")
    func remindsEveryIntervalUntilResolved() async throws {
        let clock = TestClock(t0)
        let (service, store, dir) = try await service(reminderMinutes: nil, clock: clock)
        clock.set(t0 + 29 * 60)
        await service.remindDue()
        #expect(try reminders(store).isEmpty)
        clock.set(t0 + 30 * 60)
        await service.remindDue()
        await service.remindDue()
        #expect(try reminders(store).count == 1)
        let body = try #require(try reminders(store).first?.payload)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect((json["allowed_mentions"] as? [String: Any])?["users"] as? [String] == nil)
        #expect(!(json["content"] as? String ?? "").contains("<@"))
        #expect((json["content"] as? String)?.contains("still down") == true)
        if Specs.isAvailable { #expect(Specs.validate(Array(body.utf8), schema: FakeDiscord.schema) == nil) }
        clock.set(t0 + 59 * 60)
        await service.remindDue()
        #expect(try reminders(store).count == 1)
        clock.set(t0 + 60 * 60)
        await service.remindDue()
        #expect(try reminders(store).count == 2)

        // Resolved: no more reminders.
        _ = try await store.record(
            ProbeResult(property: "api", url: "http://127.0.0.1:9/", at: t0 + 3601, health: .healthy),
            policy: policy,
            now: t0 + 3601,
            message: AlertFormatter.message(for:)
        )
        clock.set(t0 + 5 * 3600)
        await service.remindDue()
        #expect(try reminders(store).count == 2)
        withExtendedLifetime(dir) {}
    }

    @Test(arguments: StorageBackend.available)
    func remindDueIsOneTransactionPerDueIncident(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        for at in [t0 - 2, t0 - 1] {
            _ = try await storage.record(
                ProbeResult(property: "api", url: "https://api.example/", at: at, health: .down),
                policy: policy,
                now: at,
                message: { _ in PlainMessage(text: "down") }
            )
        }
        let incident = try #require(try await storage.openIncident(for: "api"))
        let remind: @Sendable (Incident) -> any OutboxMessage = { PlainMessage(text: "remind #\($0.id)") }
        // Not paged: never reminded.
        #expect(try await storage.remindDue(now: t0 + 7200, every: 1800, message: remind).isEmpty)
        _ = try await storage.pageOnce(
            incidentID: incident.id,
            kind: "remediation.paged",
            payload: .object([:]),
            at: t0,
            page: PlainMessage(text: "page")
        )
        #expect(try await storage.remindDue(now: t0 + 1799, every: 1800, message: remind).isEmpty)
        #expect(try await storage.remindDue(now: t0 + 1800, every: 1800, message: remind) == [incident.id])
        #expect(try await storage.remindDue(now: t0 + 1801, every: 1800, message: remind).isEmpty)
        let rows = try await storage.allOutbox().filter { $0.kind == "reminder" }
        #expect(rows.map(\.payload) == ["remind #\(incident.id)"])
        #expect(try await storage.incidentEvents(incidentID: incident.id).filter { $0.kind == "reminder" }.count == 1)
        withExtendedLifetime(keep) {}
    }

    @Test("reminder_minutes 0 turns reminders off")
    func zeroIsOff() async throws {
        let clock = TestClock(t0)
        let (service, store, dir) = try await service(reminderMinutes: 0, clock: clock)
        clock.set(t0 + 24 * 3600)
        await service.remindDue()
        #expect(try reminders(store).isEmpty)
        withExtendedLifetime(dir) {}
    }

    @Test("paging.reminder_minutes is read, 30 by default, and range-checked")
    func configKey() throws {
        let base = "properties:\n  - name: api\n    url: https://api.example/\n"
        #expect(try ConfigLoader.parse(yaml: base, file: "m.yaml", environment: [:]).onCall.reminderMinutes == 30)
        let set = try ConfigLoader.parse(
            yaml: base + "paging:\n  reminder_minutes: 5\n",
            file: "m.yaml",
            environment: [:]
        )
        #expect(set.onCall.reminderMinutes == 5)
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.parse(yaml: base + "paging:\n  reminder_minutes: -1\n", file: "m.yaml", environment: [:])
        }
        let edits = try ConfigLoader.parse(
            yaml: base + "discord:\n  edit_messages: false\n",
            file: "m.yaml",
            environment: [:]
        )
        #expect(!edits.onCall.editMessages)
    }
}
