import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A unique temp directory (mode 0700), removed by ``remove()``.
struct TempDir: Sendable {
    let path: String

    init(_ prefix: String = "zumik-e2e") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RawHTTPError(message: "mkdtemp failed: \(errno)")
        }
        path = String(cString: result)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The real `zumik-monitor` binary beside the test binary, run as a child process.
final class MonitorProcess: @unchecked Sendable {
    // Process is not Sendable; this wrapper is only driven from one test at a time.
    static let binary: String? = {
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("zumik-monitor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    let process = Process()
    let log: String

    init(config: String, environment: [String: String], log: String) throws {
        guard let binary = Self.binary else { throw RawHTTPError(message: "zumik-monitor is not built") }
        self.log = log
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config, "--log-level", "debug"]
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}

/// Everything one end-to-end scenario needs around the two real binaries.
enum EndToEnd {
    static let alertUserID = "123456789012345678"

    /// The production bundles, with the compose path (and docker CLI path) replaced.
    static func productionBundles(composePath: String) throws -> [(name: String, manifest: String, plugin: String)] {
        try ["DockerActions", "NginxActions"].map { plugin in
            let manifest = try TestBundleFactory.productionManifest(named: plugin)
                .replacingOccurrences(of: "/srv/zumik/docker-compose.yml", with: composePath)
                .replacingOccurrences(of: "\"/usr/bin/docker\"", with: "\"\(DockerEngine.cliPath)\"")
            return (name: plugin, manifest: manifest, plugin: plugin)
        }
    }

    /// Writes a monitor config watching one api-core property, and returns its path.
    static func writeConfig(in directory: TempDir, propertyURL: String, modelURL: String, settleSeconds: Int) throws
        -> String
    {
        let path = directory.file("monitor.yaml")
        try """
        interval: 2s
        confirmation_delay: 100ms
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(try LoopbackServer.freePort())
        discord:
          retry_base_ms: 50
          retry_max_ms: 500
        remediation:
          base_url: \(modelURL)
          model: gpt-4o-mini
          settle_seconds: \(settleSeconds)
        properties:
          - name: api-core
            url: \(propertyURL)
            timeout: 3s
            host: default
            service: api-core
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func environment(
        agentURL: String,
        discord: FakeDiscord,
        openAIKey: String? = "sk-e2e-test"
    ) -> [String: String] {
        var env = [
            "PATH": "/usr/bin:/bin",
            "DISCORD_WEBHOOK_URL": discord.webhookURL,
            "DISCORD_ALERT_USER_ID": alertUserID,
            "OPS_AGENT_URL": agentURL,
            "OPS_AGENT_TOKEN": BinaryAgent.token,
            "MAX_REMEDIATION_ROUNDS": "3",
        ]
        if let openAIKey { env["SEPARATE_OPENAI_KEY"] = openAIKey }
        return env
    }

    /// Discord messages that ping someone.
    static func pages(_ records: [FakeDiscord.Record]) -> [FakeDiscord.Record] {
        records.filter { record in
            let mentions = record.json?["allowed_mentions"] as? [String: Any]
            return (mentions?["users"] as? [String])?.isEmpty == false
        }
    }

    static func embedTitles(_ record: FakeDiscord.Record) -> [String] {
        ((record.json?["embeds"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
    }

    static func contents(_ records: [FakeDiscord.Record]) -> [String] {
        records.compactMap { $0.json?["content"] as? String }
    }

    /// Action ids the agent's audit log shows as run (any outcome but refusals before running).
    static func ran(_ agent: BinaryAgent) throws -> [String] {
        try agent.auditRecords().compactMap { record -> String? in
            guard let outcome = record["outcome"] as? String,
                ["succeeded", "failed", "timed_out", "killed"].contains(outcome)
            else { return nil }
            return record["action"] as? String
        }
    }

    /// Polls `condition` every 200 ms until `timeout`.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return try condition()
    }
}
