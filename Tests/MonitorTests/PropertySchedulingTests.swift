import Foundation
import Monitor
import Testing
import ZumikTestSupport

/// Each property is scheduled on its own: a hung probe never holds back another property's alert.
@Suite struct PropertySchedulingTests {
    @Test(.enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing"))
    func refusedPropertyAlertsWhileItsNeighbourHangs() async throws {
        let dir = try TempDir()
        let hung = try LoopbackServer { _ in .stall }
        defer { hung.stop() }
        let refusedPort = try LoopbackServer.freePort()  // nothing listens: connection refused at once
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let config = MonitorConfig(
            interval: .seconds(2),
            confirmationDelay: .milliseconds(100),
            storePath: dir.dbPath,
            retryBase: .milliseconds(20),
            properties: [
                PropertyConfig(name: "hung", url: "\(hung.baseURL)/healthz", timeout: .seconds(10)),
                PropertyConfig(name: "refused", url: "http://127.0.0.1:\(refusedPort)/healthz", timeout: .seconds(1)),
            ],
            secrets: Secrets(discordWebhookURL: Secret(discord.webhookURL))
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger)
        let store = runtime.store
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            let alerted = await discord.waitUntil { records in
                records.contains {
                    ($0.json?["embeds"] as? [[String: Any]])?.first?["title"] as? String == "refused is DOWN"
                }
            }
            let elapsed = ContinuousClock.now - started
            // The hung property's first probe (10 s timeout) has not even ended: nothing recorded for it yet.
            let hungRecorded = (try? store.state(of: "hung")?.lastResult) ?? nil
            #expect(alerted)
            // So the alert came within interval + confirmation + its own timeout, whatever the machine's load.
            #expect(hungRecorded == nil, "the refused property's alert waited for the hung probe (\(elapsed))")
            group.cancelAll()
        }
    }
}
