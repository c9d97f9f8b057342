import ActionKit
import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Properties served by the same host and service share one incident: one remediation, one message, one
/// page; the incident resolves when all of them have recovered.
@Suite struct CorrelationTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func record(_ storage: any MonitorStorage, _ property: String, _ health: Health, _ at: Date) async throws
        -> RecordOutcome
    {
        try await storage.record(
            ProbeResult(property: property, url: "https://\(property).example/", at: at, health: health),
            policy: policy,
            incidentGroup: "default/api-core",
            now: at,
            message: { _ in IncidentMessageRender() }
        )
    }

    @Test(arguments: StorageBackend.available)
    func theSecondPropertyJoinsAndTheLastRecoveryCloses(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        _ = try await record(storage, "api", .down, t0)
        let first = try await record(storage, "api", .down, t0 + 1)
        let incident = try #require(first.incident)
        #expect(!first.joinedOpenIncident)
        _ = try await record(storage, "api-v2", .down, t0 + 2)
        let second = try await record(storage, "api-v2", .down, t0 + 3)
        #expect(second.joinedOpenIncident)
        #expect(second.incident?.id == incident.id)
        #expect(try await storage.openIncidentCount() == 1)
        #expect(try await storage.openIncident(for: "api-v2")?.id == incident.id)
        // One render row for both transitions.
        #expect(try await storage.allOutbox().filter { $0.deliveredAt == nil }.count == 1)

        let api = try await record(storage, "api", .healthy, t0 + 4)
        #expect(api.incident?.closedAt == nil)
        #expect(try await storage.openIncidentCount() == 1)
        let v2 = try await record(storage, "api-v2", .healthy, t0 + 5)
        #expect(v2.incident?.closedAt == t0 + 5)
        #expect(try await storage.openIncidentCount() == 0)
        let properties = try await storage.incidentEvents(incidentID: incident.id).compactMap { event -> String? in
            guard case .object(let payload) = event.payload, case .string(let name)? = payload["property"] else {
                return nil
            }
            return name
        }
        #expect(properties == ["api", "api-v2", "api", "api-v2"])
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func otherServicesAndUngroupedPropertiesKeepTheirOwnIncidents(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        _ = try await record(storage, "api", .down, t0)
        let api = try await record(storage, "api", .down, t0 + 1)
        for at in [t0 + 2, t0 + 3] {
            _ = try await storage.record(
                ProbeResult(property: "web", url: "https://web.example/", at: at, health: .down),
                policy: policy,
                incidentGroup: "default/gateway",
                now: at,
                message: { _ in IncidentMessageRender() }
            )
        }
        for at in [t0 + 4, t0 + 5] {
            _ = try await storage.record(
                ProbeResult(property: "docs", url: "https://docs.example/", at: at, health: .down),
                policy: policy,
                incidentGroup: nil,
                now: at,
                message: { _ in IncidentMessageRender() }
            )
        }
        #expect(try await storage.openIncidentCount() == 3)
        #expect(try await storage.openIncident(for: "web")?.id != api.incident?.id)
        withExtendedLifetime(keep) {}
    }

    @Test(
        "two properties of one service: one incident, one remediation, one message naming both, one recovery post",
        .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
    )
    func oneOutageOfOneServiceIsOneStory() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(503)
        let discord = try FakeDiscord(refusesInvalid: true)
        defer { discord.stop() }
        let responder = RecordingResponder(
            heal: api,
            after: { context in
                // Heal only once both properties are confirmed down (both in the incident).
                for _ in 0..<3000 {
                    let api = try? await context.store.openIncident(for: "api")
                    let v2 = try? await context.store.openIncident(for: "api-v2")
                    if api != nil, v2 != nil { return }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        )
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: .milliseconds(50),
            storePath: dir.dbPath,
            retryBase: .milliseconds(20),
            properties: [
                PropertyConfig(name: "api", url: "\(api.server.baseURL)/healthz", host: "default", service: "api-core"),
                PropertyConfig(name: "api-v2", url: "\(api.server.baseURL)/v2", host: "default", service: "api-core"),
            ],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")],
            secrets: Secrets(discordWebhookURL: Secret(discord.webhookURL))
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger, responder: responder)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.sender.run() }
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { responder.reprobed.withLock { $0.count } == 1 })
            // The remediation's re-probe probed the incident's other property too (the interval is an hour):
            // both recovered, the incident closed.
            #expect(await waitFor { try runtime.store.openIncidentCount() == 0 })
            #expect(await discord.waitUntil { _ in discord.posts.count == 2 })
            #expect(
                await discord.waitUntil { records in
                    records.last { $0.request.method == "PATCH" }.map(Self.title)?.contains("recovered") == true
                }
            )
            group.cancelAll()
        }
        #expect(responder.calls.withLock { $0.count } == 1)
        #expect(try runtime.store.incidents().count == 1)
        #expect(discord.posts.count == 2, "\(discord.records.map(\.request.method))")
        let message = try #require(discord.messages.values.first)
        #expect(discord.messages.count == 1)
        let fields = (message.last?.json?["embeds"] as? [[String: Any]])?.first?["fields"] as? [[String: Any]] ?? []
        let members = fields.first { $0["name"] as? String == "Properties" }?["value"] as? String ?? ""
        #expect(members.contains("api: healthy") && members.contains("api-v2: healthy"), "\(fields)")
        for record in discord.records { #expect(record.validationError == nil, "\(record.validationError ?? "")") }
    }

    static func title(_ record: FakeDiscord.Record) -> String {
        ((record.json?["embeds"] as? [[String: Any]])?.first?["title"] as? String) ?? ""
    }
}
