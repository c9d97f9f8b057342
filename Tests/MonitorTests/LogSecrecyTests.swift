import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Collects every log line (message and metadata) in memory.
final class CapturedLogs: Sendable {
    let lines = Mutex<[String]>([])

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = metadata.merging(event.metadata ?? [:]) { $1 }.map { "\($0)=\($1)" }.sorted()
            sink.lines.withLock { $0.append("\(event.level) \(event.message) \(meta.joined(separator: " "))") }
        }
    }

    var logger: Logger { Logger(label: "capture", factory: { _ in Handler(sink: self) }) }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

@Suite struct LogSecrecyTests {
    @Test func webhookTokenNeverReachesTheLogsOrTheOutbox() async throws {
        let dir = try TempDir()
        let logs = CapturedLogs()
        let fake = try FakeDiscord(script: [.status(500), .rateLimited(retryAfter: 0), .status(404)])
        defer { fake.stop() }
        let secretURL = fake.webhookURL + "-SECRET-TOKEN-PART"
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(10),
            storePath: dir.dbPath,
            retryBase: .milliseconds(10),
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, alertOnly: true)],
            secrets: Secrets(
                discordWebhookURL: Secret(secretURL),
                controlToken: Secret("control-SECRET-0123456789")
            )
        )
        let runtime = try MonitorRuntime(config: config, logger: logs.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            #expect(await fake.waitUntil { $0.count >= 3 })
            #expect(await waitFor { try runtime.store.allOutbox().first?.failedAt != nil })
            group.cancelAll()
        }
        let text = logs.text
        #expect(text.contains("state transition"))
        #expect(text.contains("Discord refused the alert"))
        #expect(!text.contains("SECRET"))
        #expect(!text.contains("fake-token"))
        let rows = try runtime.store.allOutbox()
        #expect(rows.allSatisfy { !($0.lastError ?? "").contains("SECRET") && !$0.payload.contains("SECRET") })
    }

    @Test func retryAfterHeaderAloneIsHonoured() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        let server = try LoopbackServer { _ in
            .respond(status: 429, headers: [("Retry-After", "42")], body: "slow down")
        }
        defer { server.stop() }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.enqueue(DiscordMessage(content: "hello"), kind: "test", incidentID: nil, now: t0)
        let sender = AlertSender(
            store: store,
            transport: CurlEngine(maxInFlight: 2),
            webhookURL: Secret("\(server.baseURL)/api/webhooks/1/x"),
            signal: WakeSignal(),
            logger: quietLogger
        )
        #expect(try await sender.deliverDue(now: { t0 }) == 0)
        #expect(try store.allOutbox().first?.nextAttemptAt == t0.addingTimeInterval(42))
    }
}
