import ActionKit
import Foundation
import Logging
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor

/// One living message per incident: created with `?wait=true` (its id kept on the incident), edited in place
/// with PATCH as the incident proceeds, coalesced, re-posted when deleted, and edited (not duplicated) after
/// a kill -9. Every body is checked against the vendored schemas by the Discord stand-in.
@Suite(.enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing"))
struct IncidentMessageTests {
    static let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    final class Fixture {
        let directory: URL
        let store: MonitorStore
        let discord: FakeDiscord
        let sender: AlertSender

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-msg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try MonitorStore(path: directory.appendingPathComponent("state.sqlite").path)
            discord = try FakeDiscord(refusesInvalid: true)
            sender = AlertSender(
                store: store,
                transport: CurlEngine(maxInFlight: 4),
                webhookURL: Secret(discord.webhookURL),
                signal: WakeSignal(),
                retryBase: .milliseconds(20),
                retryMax: .milliseconds(200),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }

        func probe(_ property: String, _ health: Health, editMessages: Bool = true) async throws -> RecordOutcome {
            let now = Date()
            return try await store.record(
                ProbeResult(property: property, url: "https://\(property)", at: now, health: health, reasons: ["test"]),
                policy: IncidentMessageTests.policy,
                now: now,
                message: AlertFormatter.transitionMessage(editMessages: editMessages)
            )
        }

        func note(_ id: IncidentID, _ text: String) async throws {
            try await store.appendIncidentEvent(
                incidentID: id,
                kind: "remediation.note",
                payload: .object(["kind": .string("note")]),
                at: Date(),
                notice: DiscordMessage(content: text),
                noticeKind: "remediation"
            )
        }

        deinit {
            discord.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func description(_ record: FakeDiscord.Record) -> String {
        ((record.json?["embeds"] as? [[String: Any]])?.first?["description"] as? String) ?? ""
    }

    static func title(_ record: FakeDiscord.Record) -> String {
        ((record.json?["embeds"] as? [[String: Any]])?.first?["title"] as? String) ?? ""
    }

    @Test("the first alert creates the message with ?wait=true and keeps its id; a burst of steps is one PATCH")
    func createdThenEditedInPlace() async throws {
        let f = try Fixture()
        _ = try await f.probe("api", .down)
        let opened = try await f.probe("api", .down)
        let id = try #require(opened.incident?.id)
        try await f.sender.deliverDue()
        let created = try #require(f.discord.records.first)
        #expect(created.request.method == "POST" && created.request.target.contains("wait=true"))
        #expect(created.reply == "200", "\(created.validationError ?? "")")
        let messageID = try #require(try await f.store.incidentMessage(incidentID: id)?.messageID)
        #expect(f.discord.messages[messageID]?.count == 1)

        // Five steps before the sender runs: one outbox row, one edit.
        for step in 1...5 { try await f.note(id, "step \(step) of the remediation") }
        #expect(try f.store.allOutbox().filter { $0.deliveredAt == nil }.count == 1)
        try await f.sender.deliverDue()
        let edits = f.discord.records.filter { $0.request.method == "PATCH" }
        #expect(edits.count == 1)
        #expect(edits.first?.request.target.hasSuffix("/messages/\(messageID)") == true)
        let timeline = Self.description(try #require(edits.first))
        for step in 1...5 { #expect(timeline.contains("step \(step) of the remediation"), "\(timeline)") }

        // The recovery: one post of its own, and the message edited to say so.
        _ = try await f.probe("api", .healthy)
        try await f.sender.deliverDue()
        #expect(f.discord.posts.count == 2)
        let history = try #require(f.discord.messages[messageID])
        #expect(history.count == 3)
        #expect(Self.title(try #require(history.last)).contains("recovered"))
        for record in f.discord.records {
            #expect(record.validationError == nil, "\(record.request.method): \(record.validationError ?? "")")
        }
    }

    @Test("an edit that finds the message deleted (404) posts a new one and keeps the new id")
    func deletedMessageIsPostedAgain() async throws {
        let f = try Fixture()
        _ = try await f.probe("api", .down)
        let id = try #require(try await f.probe("api", .down).incident?.id)
        try await f.sender.deliverDue()
        let first = try #require(try await f.store.incidentMessage(incidentID: id)?.messageID)
        f.discord.deleteMessage(first)
        try await f.note(id, "a step after the deletion")
        try await f.sender.deliverDue()
        #expect(f.discord.records.map(\.reply) == ["200", "404", "200"])
        let second = try #require(try await f.store.incidentMessage(incidentID: id)?.messageID)
        #expect(second != first)
        #expect(Self.description(try #require(f.discord.messages[second]?.first)).contains("a step after the deletion"))
        #expect(try f.store.allOutbox().allSatisfy { $0.deliveredAt != nil })
    }

    @Test("with edit_messages false every step is its own post, as before")
    func editsOffPostsEachStep() async throws {
        let f = try Fixture()
        _ = try await f.probe("api", .down, editMessages: false)
        let id = try #require(try await f.probe("api", .down, editMessages: false).incident?.id)
        try await f.note(id, "one step")
        try await f.sender.deliverDue()
        #expect(f.discord.records.map(\.request.method) == ["POST", "POST"])
        #expect(f.discord.records.allSatisfy { !$0.request.target.contains("wait=true") })
        #expect(try await f.store.incidentMessage(incidentID: id) == nil)
    }

    @Test("with edit_messages false narration is capped per incident, then folded once")
    func editsOffNarrationIsCappedAndFolded() async throws {
        let f = try Fixture()
        _ = try await f.probe("api", .down, editMessages: false)
        let id = try #require(try await f.probe("api", .down, editMessages: false).incident?.id)
        for step in 1...12 { try await f.note(id, "step \(step)") }
        try await f.sender.deliverDue()
        let contents = f.discord.records.compactMap { $0.json?["content"] as? String }
        #expect(contents.filter { $0.hasPrefix("step ") } == (1...NarrationFold.cap).map { "step \($0)" })
        let folds = contents.filter { $0.contains("more steps of incident #\(id)") }
        #expect(folds.count == 1, "\(contents)")
        #expect(folds.first?.contains("4 so far") == true, "\(folds)")
        #expect(f.discord.records.count == 1 + NarrationFold.cap + 1)
        #expect(try f.store.incidentEvents(incidentID: id).filter { $0.notice != nil }.count == 12)
        for record in f.discord.records { #expect(record.validationError == nil) }
    }

    @Test(
        "kill -9 after the message was created: the restarted monitor edits it, it does not post a duplicate",
        .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests")
    )
    func killNineBetweenCreateAndEdit() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let discord = try FakeDiscord(refusesInvalid: true)
        defer { discord.stop() }
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 300ms
        confirmation_delay: 100ms
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(try LoopbackServer.freePort())
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
        properties:
          - name: api
            url: \(api.server.baseURL)/healthz
            timeout: 5s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL]
        let log = dir.url.appendingPathComponent("monitor.log").path
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)

        let first = try MonitorProcess(config: configPath, environment: env, log: log)
        let stored = await waitFor {
            guard let incident = try store.openIncident(for: "api") else { return false }
            return try Self.storedID(store, incident.id) != nil
        }
        #expect(stored, "no message id stored; log:\n\(first.logText)")
        first.kill9()
        let incident = try #require(try store.openIncident(for: "api"))
        let messageID = try #require(try Self.storedID(store, incident.id))

        api.set(200)
        let second = try MonitorProcess(config: configPath, environment: env, log: log)
        defer { second.terminate() }
        let recovered = await discord.waitUntil { records in
            records.contains { $0.request.method == "PATCH" && Self.title($0).contains("recovered") }
        }
        #expect(recovered, "log:\n\(second.logText)")
        #expect(discord.records.filter { $0.request.target.contains("wait=true") }.count == 1)
        #expect(discord.posts.count == 2)  // the incident message and the recovery
        #expect(discord.messages.keys.sorted() == [messageID])
        for record in discord.records { #expect(record.validationError == nil, "\(record.validationError ?? "")") }
    }

    /// The stored message id, read synchronously (the SQLite store answers at once).
    static func storedID(_ store: MonitorStore, _ id: IncidentID) throws -> String? {
        try store.read { db in try IncidentMessageRepository.find(db, id)?.messageID }
    }
}
