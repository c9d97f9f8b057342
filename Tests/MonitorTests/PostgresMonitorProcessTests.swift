import Foundation
import Monitor
import Testing
import ZumikTestSupport

/// The real `zumik-monitor` binary on a shared PostgreSQL store.
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresMonitorProcessTests {
    /// A config for `store: postgres` probing `url`, and the environment with the connection string.
    func setUp(_ dir: TempDir, url: String, databaseURL: String, discord: String? = nil) throws
        -> (config: String, environment: [String: String])
    {
        let controlPort = try LoopbackServer.freePort()
        let configPath = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        confirmation_delay: 100ms
        store: postgres
        location: test-a
        control:
          listen: 127.0.0.1:\(controlPort)
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
        properties:
          - name: api
            url: \(url)
            timeout: 5s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        var environment = ["PATH": "/usr/bin:/bin", "ZUMIK_DATABASE_URL": databaseURL]
        environment["DISCORD_WEBHOOK_URL"] = discord
        return (configPath, environment)
    }

    @Test(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
    func twoMigrateCommandsStartedTogetherApplyTheSchemaOnceAndBothSucceed() async throws {
        let binary = try #require(MonitorProcess.binary)
        let server = try PostgresServer.shared()
        let dir = try TempDir()
        let (config, environment) = try setUp(
            dir,
            url: "http://127.0.0.1:9/",
            databaseURL: server.url(database: try server.makeDatabase())
        )
        let runs = try (0..<2).map { i in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["migrate", "--config", config]
            process.environment = environment
            let out = dir.url.appendingPathComponent("migrate-\(i).out")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            let handle = try FileHandle(forWritingTo: out)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            return (process, out)
        }
        var outputs: [String] = []
        for (process, out) in runs {
            process.waitUntilExit()
            let text = try String(contentsOf: out, encoding: .utf8)
            #expect(process.terminationStatus == 0, "\(text)")
            outputs.append(text)
        }
        let all = PostgresTestStore.schemaVersions.indices.map { String($0 + 1) }.joined(separator: ", ")
        #expect(outputs.filter { $0.contains("applied \(all);") }.count == 1, "\(outputs)")
        #expect(outputs.filter { $0.contains("nothing to apply") }.count == 1, "\(outputs)")
        // The connection string's password is never printed.
        #expect(outputs.allSatisfy { !$0.contains(server.password) })
    }

    @Test(
        .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
        .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
    )
    func aMonitorOnPostgresAlertsOnceAndRecordsTheIncidentThere() async throws {
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let database = try PostgresTestStore()
        let dir = try TempDir()
        let (config, environment) = try setUp(
            dir,
            url: "\(api.server.baseURL)/healthz",
            databaseURL: database.url,
            discord: discord.webhookURL
        )
        let log = dir.url.appendingPathComponent("monitor.log").path
        let monitor = try MonitorProcess(config: config, environment: environment, log: log)
        defer { monitor.terminate() }
        // The incident's living message: created once (answered 200 with its id), the id kept in PostgreSQL.
        #expect(await discord.waitUntil { $0.filter { $0.reply == "200" }.count == 1 }, "\(monitor.logText)")
        let incident = try #require(try await database.store.openIncident(for: "api"))
        var messageID: String?
        for _ in 0..<500 where messageID == nil {
            messageID = try await database.store.incidentMessage(incidentID: incident.id)?.messageID
            if messageID == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(messageID != nil && messageID == discord.messages.keys.first)
        #expect(discord.delivered.count == 1)
        #expect(try await database.store.allOutbox().map(\.deliveredAt).allSatisfy { $0 != nil })
        #expect(try await database.store.incidentEvents(incidentID: incident.id).map(\.kind) == ["transition"])
        #expect(!monitor.logText.contains(try PostgresServer.shared().password))
        #expect(monitor.logText.contains("location=test-a"))
    }
}
