import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// The outbox sender against the loopback Discord stand-in; every body is checked against the strict schema.
@Suite(.enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing"))
struct DiscordSenderTests {
    let engine = CurlEngine(maxInFlight: 8)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func sampleMessage(_ n: Int) -> DiscordMessage {
        let event = AlertEvent(
            transition: Transition(from: .healthy, to: .down),
            result: ProbeResult(
                property: "api-\(n)",
                url: "https://api.zumik.ai/healthz",
                at: t0,
                health: .down,
                reasons: ["unexpected status 503 (expected 200)", "@everyone <@1234> look"],
                status: 503,
                error: nil
            ),
            incident: nil,
            at: t0,
            note: nil
        )
        return AlertFormatter.message(for: event)
    }

    func sender(_ store: MonitorStore, _ fake: FakeDiscord?, console: @escaping AlertSender.ConsoleSink = { _ in })
        -> AlertSender
    {
        AlertSender(
            store: store,
            transport: engine,
            webhookURL: fake.map { Secret($0.webhookURL) },
            signal: WakeSignal(),
            retryBase: .milliseconds(20),
            retryMax: .milliseconds(200),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            console: console
        )
    }

    @Test func everyMessageArrivesExactlyOnceThrough429And500() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let fake = try FakeDiscord(script: [
            .rateLimited(retryAfter: 0.05), .status(500), .status(502), .rateLimited(retryAfter: 0.01),
        ])
        defer { fake.stop() }
        let outbox = AlertOutbox(store: store, signal: WakeSignal())
        for n in 0..<3 { try await outbox.enqueue(sampleMessage(n), kind: "transition", incidentID: nil) }
        let sender = sender(store, fake)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await sender.run() }
            let done = await fake.waitUntil { $0.filter { $0.reply == "204" }.count >= 3 }
            #expect(done)
            // Discord's 204 comes before the sender's commit of the delivery: wait for that too.
            _ = await waitFor(.seconds(5)) { try store.allOutbox().allSatisfy { $0.deliveredAt != nil } }
            group.cancelAll()
        }
        let delivered = fake.delivered
        #expect(delivered.count == 3)
        let titles = delivered.compactMap { (($0.json?["embeds"] as? [[String: Any]])?.first?["title"]) as? String }
        #expect(titles == ["api-0 is DOWN", "api-1 is DOWN", "api-2 is DOWN"])
        for record in fake.records {
            #expect(record.validationError == nil, "\(record.validationError ?? "")")
            let mentions = record.json?["allowed_mentions"] as? [String: Any]
            #expect((mentions?["parse"] as? [Any])?.isEmpty == true)
            #expect(mentions?["users"] == nil)
            #expect(record.json?["username"] as? String == "Zumik ops")
        }
        #expect(fake.records.count == 7)
        #expect(try store.allOutbox().allSatisfy { $0.deliveredAt != nil })
    }

    @Test func rateLimitHonoursRetryAfterFromBody() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let fake = try FakeDiscord(script: [.rateLimited(retryAfter: 7.5)])
        defer { fake.stop() }
        let id = try await store.enqueue(sampleMessage(0), kind: "transition", incidentID: nil, now: t0)
        let now = t0
        let delivered = try await sender(store, fake).deliverDue(now: { now })
        #expect(delivered == 0)
        let row = try #require(try store.allOutbox().first { $0.id == id })
        #expect(row.nextAttemptAt == t0.addingTimeInterval(7.5))
        #expect(row.attempts == 1)
        #expect(row.deliveredAt == nil)
        // Not due before retry_after has passed.
        #expect(try store.dueOutbox(now: t0.addingTimeInterval(7)).isEmpty)
        #expect(try store.dueOutbox(now: t0.addingTimeInterval(7.5)).count == 1)
    }

    @Test func serverErrorsBackOffExponentially() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let fake = try FakeDiscord(script: [.status(500), .status(503)])
        defer { fake.stop() }
        let id = try await store.enqueue(sampleMessage(0), kind: "transition", incidentID: nil, now: t0)
        let sender = sender(store, fake)
        let start = t0
        _ = try await sender.deliverDue(now: { start })
        #expect(try store.allOutbox().first { $0.id == id }?.nextAttemptAt == t0.addingTimeInterval(0.02))
        let t1 = t0.addingTimeInterval(1)
        _ = try await sender.deliverDue(now: { t1 })
        #expect(try store.allOutbox().first { $0.id == id }?.nextAttemptAt == t1.addingTimeInterval(0.04))
        let t2 = t0.addingTimeInterval(2)
        #expect(try await sender.deliverDue(now: { t2 }) == 1)
        #expect(fake.delivered.count == 1)
    }

    @Test func refusedMessageIsParkedNotDeletedAndDoesNotBlockOthers() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let fake = try FakeDiscord(script: [.status(400)])
        defer { fake.stop() }
        try await store.enqueue(sampleMessage(0), kind: "transition", incidentID: nil)
        try await store.enqueue(sampleMessage(1), kind: "transition", incidentID: nil)
        #expect(try await sender(store, fake).deliverDue() == 1)
        let rows = try store.allOutbox()
        #expect(rows.count == 2)
        #expect(rows[0].failedAt != nil)
        #expect(rows[0].lastError?.hasPrefix("HTTP 400") == true)
        #expect(rows[1].deliveredAt != nil)
    }

    @Test func networkErrorIsRetriedUntilDiscordIsBack() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let port = try LoopbackServer.closedPort()
        try await store.enqueue(sampleMessage(0), kind: "transition", incidentID: nil, now: t0)
        let offline = AlertSender(
            store: store,
            transport: engine,
            webhookURL: Secret("http://127.0.0.1:\(port)/api/webhooks/1/x"),
            signal: WakeSignal(),
            retryBase: .milliseconds(20),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let start = t0
        let none = try await offline.deliverDue(now: { start })
        #expect(none == 0)
        let row = try #require(try store.allOutbox().first)
        #expect(row.lastError?.contains("connect") == true)
        #expect(row.lastError?.contains("/api/webhooks") == false)
        let fake = try FakeDiscord()
        defer { fake.stop() }
        let later = t0.addingTimeInterval(1)
        let one = try await sender(store, fake).deliverDue(now: { later })
        #expect(one == 1)
        #expect(fake.delivered.count == 1)
    }

    @Test func consoleSinkWithoutWebhookSaysTheSameWords() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let lines = Mutex<[String]>([])
        try await store.enqueue(sampleMessage(0), kind: "transition", incidentID: nil)
        let sender = sender(store, nil) { line in lines.withLock { $0.append(line) } }
        #expect(try await sender.deliverDue() == 1)
        let text = lines.withLock { $0.joined() }
        #expect(text.contains("api-0 is DOWN"))
        #expect(text.contains("unexpected status 503"))
        #expect(try store.allOutbox().first?.deliveredAt != nil)
    }

    @Test func pageBodyMentionsExactlyTheOnCallUser() async throws {
        let page = DiscordMessage.page(userID: "123456789012345678", text: "api-core is down; automation gave up")
        let body = page.jsonBody()
        #expect(Specs.validate(body, schema: FakeDiscord.schema) == nil)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let mentions = try #require(json["allowed_mentions"] as? [String: Any])
        #expect((mentions["parse"] as? [Any])?.isEmpty == true)
        #expect(mentions["users"] as? [String] == ["123456789012345678"])
    }
}

/// A clock whose sleeps only end by cancellation: anything that still makes progress was woken by a signal.
struct StalledClock: Clock {
    typealias Instant = ContinuousClock.Instant
    var now: Instant { ContinuousClock.now }
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await Task.sleep(for: .seconds(86_400))
    }
}

@Suite struct SenderWakeupTests {
    @Test func enqueueWakesTheSenderWithoutWaitingForItsTimer() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let signal = WakeSignal()
        let outbox = AlertOutbox(store: store, signal: signal)
        let lines = Mutex<[String]>([])
        let sender = AlertSender(
            store: store,
            transport: CurlEngine(maxInFlight: 2),
            webhookURL: nil,
            signal: signal,
            logger: quietLogger,
            console: { line in lines.withLock { $0.append(line) } },
            clock: StalledClock()
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await sender.run() }
            for n in 1...3 {
                _ = try? await outbox.enqueue(DiscordMessage(content: "message \(n)"), kind: "test", incidentID: nil)
                #expect(await waitFor { lines.withLock { $0.count } == n })
            }
            group.cancelAll()
        }
        #expect(
            lines.withLock { $0 }.map { $0.replacingOccurrences(of: "[zumik-monitor alert] ", with: "") } == [
                "message 1", "message 2", "message 3",
            ]
        )
    }
}
