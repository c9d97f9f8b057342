import ActionKit
import Foundation
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor

/// The broken-pager flag survives a restart: it is derived from the store (a parked page), not only memory.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct PagerRestartTests {
    @Test("a page parked before a restart: the restarted monitor reports the pager broken at once")
    func parkedPageKeepsThePagerBrokenAcrossRestart() async throws {
        let dir = try TempDir()
        let storePath = dir.url.appendingPathComponent("state.sqlite").path
        // What the previous run left: an incident paged, Discord refused the page and its minimal form.
        do {
            let store = try MonitorStore(path: storePath)
            let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)
            var incident: Incident?
            for _ in 0..<2 {
                incident =
                    try await store.record(
                        .init(property: "old", url: "https://old.example/", at: Date(), health: .down),
                        policy: policy,
                        now: Date(),
                        message: AlertFormatter.message(for:)
                    ).incident
            }
            let id = try #require(incident?.id)
            _ = try await store.pageOnce(
                incidentID: id,
                kind: "remediation.paged",
                payload: .object([:]),
                at: Date(),
                page: DiscordMessage.page(userID: "123456789012345678", text: "old is down")
            )
            for row in try store.allOutbox() {
                if row.kind == "page" {
                    try store.markFailed(row.id, at: Date(), error: "HTTP 404: Unknown Webhook")
                } else {
                    try store.markDelivered(row.id, at: Date())
                }
            }
        }
        let api = try FlakyProperty()
        defer { api.server.stop() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let controlPort = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(controlPort)
        properties:
          - name: web
            url: \(api.server.baseURL)/healthz
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let monitor = try MonitorProcess(
            config: configPath,
            environment: ["PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL],
            log: dir.url.appendingPathComponent("monitor.log").path
        )
        defer { monitor.terminate() }
        var health: RawHTTPResponse?
        for _ in 0..<200 {
            health = try? await RawHTTP.get(port: controlPort, "/healthz")
            if health != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(health?.status == 503, "\(health?.text ?? "no answer"); log:\n\(monitor.logText)")
        #expect(try health?.json()["status"] as? String == "pager_broken")
        let status = try await RawHTTP.get(port: controlPort, "/v1/status").json()
        let pager = try #require(status["pager"] as? [String: Any])
        #expect((pager["error"] as? String)?.contains("parked undelivered") == true, "\(pager)")
        #expect((pager["error"] as? String)?.contains(discord.webhookURL) == false)
        #expect(monitor.logText.contains("outbox retry"))
    }
}
