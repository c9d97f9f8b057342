import Foundation
import Logging
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor
@testable import Remediation

/// The page always arrives: texts are cut as Discord counts them (Unicode scalars), and a page Discord
/// refuses is re-sent in a minimal form. The Discord stand-in refuses (400) every body its schema rejects.
@Suite(.enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing"))
struct PageDeliveryTests {
    /// Letters buried under combining marks, bidi overrides and emoji ZWJ sequences: few characters, many scalars.
    static let hostile: String = {
        let buried = String(repeating: "a" + String(repeating: "\u{0301}\u{0308}\u{0323}", count: 7), count: 5)
        let bidi = "\u{202E}evil\u{202C}\u{2067}x\u{2069}"
        let family = "👩‍👩‍👧‍👦"
        return String(repeating: buried + bidi + family, count: 400)
    }()

    func sender(_ store: MonitorStore, _ fake: FakeDiscord) -> AlertSender {
        AlertSender(
            store: store,
            transport: CurlEngine(maxInFlight: 4),
            webhookURL: Secret(fake.webhookURL),
            signal: WakeSignal(),
            retryBase: .milliseconds(20),
            retryMax: .milliseconds(200),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    @Test("every text is cut to Discord's limits in scalars, the embed total included")
    func cutsCountScalars() {
        let cut = DiscordText.cut(Self.hostile, to: 2000)
        #expect(cut.unicodeScalars.count <= 2000)
        #expect(cut.hasSuffix("…"))
        // Cuts fall between characters: the kept text is a prefix of the original, character by character.
        #expect(Self.hostile.hasPrefix(String(cut.dropLast())))
        let message = DiscordMessage(
            content: Self.hostile,
            embeds: (0..<10).map { _ in
                DiscordMessage.Embed(
                    title: Self.hostile,
                    description: Self.hostile,
                    color: 0,
                    fields: (0..<25).map { _ in .init(Self.hostile, Self.hostile) },
                    footer: Self.hostile
                )
            }
        )
        #expect(message.content.map(DiscordText.length) ?? 0 <= 2000)
        let total = message.embeds.reduce(0) { sum, embed in
            sum + DiscordText.length(embed.title) + (embed.description.map(DiscordText.length) ?? 0)
                + embed.fields.reduce(0) { $0 + DiscordText.length($1.name) + DiscordText.length($1.value) }
                + (embed.footer.map { DiscordText.length($0.text) } ?? 0)
        }
        #expect(total <= DiscordText.embedTotalLimit)
        #expect(Specs.validate(message.jsonBody(), schema: FakeDiscord.schema) == nil)
    }

    @Test("a model escalation made of hostile Unicode still produces a delivered, schema-valid page")
    func hostileEscalationIsDelivered() async throws {
        let world = FakeWorld(healingAction: nil)
        let model = FakeOpenAI(script: [.call("escalate_to_human", reason: Self.hostile)])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, model: model, journal: store.journal)
        guard case .paged = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        let discord = try FakeDiscord(refusesInvalid: true)
        defer { discord.stop() }
        try await sender(store.store, discord).deliverDue()
        let pages = discord.records.filter { ($0.json?["allowed_mentions"] as? [String: Any])?["users"] != nil }
        #expect(pages.map(\.reply) == ["204"])
        for page in pages { #expect(page.validationError == nil, "\(page.validationError ?? "")") }
        #expect(try store.store.allOutbox().allSatisfy { $0.deliveredAt != nil && $0.failedAt == nil })
    }

    @Test("a page Discord refuses with 400 is re-sent at once in its minimal form and delivered")
    func refusedPageIsResentMinimal() async throws {
        let store = try await TestJournal()
        defer { store.remove() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let sender = sender(store.store, discord)
        try await sender.deliverDue()  // the DOWN alert that opened the incident
        discord.script([.status(400)])
        let paged = try await store.journal.page(
            RemediationJournalEntry(incidentID: store.incidentID, at: Date(), kind: .paged, reason: "exhausted"),
            notice: RemediationNotice(
                incidentID: store.incidentID,
                property: testIncident.property,
                content: "<@123456789012345678> 🚨 full page",
                mentionUserID: "123456789012345678"
            )
        )
        #expect(paged)
        try await sender.deliverDue()
        let pages = discord.records.filter { ($0.json?["allowed_mentions"] as? [String: Any])?["users"] != nil }
        #expect(pages.map(\.reply) == ["400", "204"])
        let minimal = try #require(pages.last?.json?["content"] as? String)
        #expect(minimal.hasPrefix("<@123456789012345678> "))
        #expect(minimal.contains(testIncident.property))
        #expect(minimal.contains("Incident \(store.incidentID)."))
        for page in pages { #expect(page.validationError == nil, "\(page.validationError ?? "")") }
        let row = try #require(try store.store.allOutbox().first { $0.kind == "page" })
        #expect(row.deliveredAt != nil && row.failedAt == nil)
        #expect(!sender.pager.report.isBroken)
    }

    @Test(
        "a dead webhook (404) shows in the metrics, /healthz and the status; once fixed, `outbox retry` re-sends",
        .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests")
    )
    func deadWebhookIsLoud() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        // Dead for the one DOWN alert, then fixed (the stand-in answers 204 once its script is spent).
        let discord = try FakeDiscord(script: [.status(404)])
        defer { discord.stop() }
        let controlPort = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        confirmation_delay: 100ms
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(controlPort)
        properties:
          - name: api
            url: \(api.server.baseURL)/healthz
            timeout: 5s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL]
        let log = dir.url.appendingPathComponent("monitor.log").path
        let monitor = try MonitorProcess(config: configPath, environment: env, log: log)
        defer { monitor.terminate() }
        #expect(await discord.waitUntil { $0.contains { $0.reply == "404" } }, "log:\n\(monitor.logText)")

        var health: RawHTTPResponse?
        for _ in 0..<100 {
            health = try? await RawHTTP.get(port: controlPort, "/healthz")
            if health?.status == 503 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(health?.status == 503, "\(health?.text ?? "no answer")")
        #expect(try health?.json()["status"] as? String == "pager_broken")
        let status = try await RawHTTP.get(port: controlPort, "/v1/status").json()
        let pager = try #require(status["pager"] as? [String: Any])
        #expect(pager["state"] as? String == "broken")
        #expect((pager["error"] as? String)?.contains("DISCORD_WEBHOOK_URL") == true)
        #expect((pager["error"] as? String)?.contains(discord.webhookURL) == false)
        let metrics = try await RawHTTP.get(port: controlPort, "/metrics").text
        #expect(metrics.contains("zumik_monitor_pager_broken 1"), "\(metrics)")
        #expect(metrics.contains(#"zumik_monitor_alerts_parked_total{kind="incident"} 1"#), "\(metrics)")
        #expect(monitor.logText.contains("outbox retry"))

        // The operator lists what was parked and re-sends it through the running monitor.
        let (listed, listing) = try CommandLineTests.run(["outbox", "list", "--config", configPath])
        #expect(listed == 0 && listing.contains("parked") && listing.contains("api is DOWN"), "\(listing)")
        let (retried, retry) = try CommandLineTests.run(["outbox", "retry", "--config", configPath])
        #expect(retried == 0 && retry.contains("running monitor"), "\(retry)")
        #expect(await discord.waitUntil { $0.contains { $0.reply == "200" } }, "log:\n\(monitor.logText)")
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)
        // Discord's answer comes before the monitor's commit: wait for the commit.
        #expect(await waitFor { try store.allOutbox().allSatisfy { $0.deliveredAt != nil && $0.failedAt == nil } })
        #expect(try await RawHTTP.get(port: controlPort, "/healthz").status == 200)
        let after = try await RawHTTP.get(port: controlPort, "/metrics").text
        #expect(after.contains("zumik_monitor_pager_broken 0"), "\(after)")
    }

    @Test("under Discord's rate limit (429 with retry_after) the page arrives before the narration queued ahead")
    func pageGoesAheadOfNarration() async throws {
        let store = try await TestJournal()
        defer { store.remove() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let sender = sender(store.store, discord)
        try await sender.deliverDue()  // the DOWN alert that opened the incident
        for n in 0..<40 {
            try await store.journal.append(
                RemediationJournalEntry(incidentID: store.incidentID, at: Date(), kind: .violation, reason: "n\(n)"),
                notice: RemediationNotice(
                    incidentID: store.incidentID,
                    property: testIncident.property,
                    content: "⛔ refused call \(n)"
                )
            )
        }
        // Discord rate-limits the first notice; while the sender waits, the page is queued.
        discord.script([.rateLimited(retryAfter: 0.2)])
        try await sender.deliverDue()
        _ = try await store.journal.page(
            RemediationJournalEntry(incidentID: store.incidentID, at: Date(), kind: .paged, reason: "exhausted"),
            notice: RemediationNotice(
                incidentID: store.incidentID,
                property: testIncident.property,
                content: "<@123456789012345678> 🚨 page",
                mentionUserID: "123456789012345678"
            )
        )
        try await Task.sleep(for: .milliseconds(250))
        try await sender.deliverDue()
        let delivered = discord.delivered.dropFirst().compactMap { $0.json?["content"] as? String }
        // The page, then the narration: capped per incident (edits off here), then one fold.
        #expect(delivered.count == 1 + NarrationFold.cap + 1)
        #expect(delivered.first == "<@123456789012345678> 🚨 page", "\(delivered.prefix(3))")
    }

    @Test("40 tool calls in one model reply yield at most one notice about refused calls")
    func oneRefusalNoticePerReply() async throws {
        let world = FakeWorld(healingAction: nil)
        let calls = (0..<40).map { n in
            FakeOpenAI.Call(name: "inspect_api_core", arguments: #"{"reason":"look \#(n)"}"#)
        }
        let model = FakeOpenAI(script: [.toolCalls(calls)])
        let store = try await TestJournal()
        defer { store.remove() }
        _ = try await remediate(world, model: model, journal: store.journal)
        let violations = try await store.journal.entries(for: testIncident.id).filter { $0.kind == .violation }
        #expect(violations.count == 39)  // every refused call is journaled and costs a round
        let refusalNotices = try store.notices().filter { $0.content.hasPrefix("⛔") }
        #expect(refusalNotices.count == 1, "\(refusalNotices.map(\.content))")
        #expect(refusalNotices.first?.content.contains("39 of the model's calls") == true)
    }
}
