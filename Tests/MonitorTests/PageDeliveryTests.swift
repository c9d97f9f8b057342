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
        let outcome = try await world.serveAgent { agentURL in
            try await model.serve { modelURL in
                await makeEngine(
                    agentURL: agentURL,
                    modelURL: modelURL,
                    journal: store.journal,
                    world: world,
                    clock: ImmediateClock()
                )
                .respond(to: testIncident)
            }
        }
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
}
