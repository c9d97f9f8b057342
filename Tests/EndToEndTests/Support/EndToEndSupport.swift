import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

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

    /// What the channel says: every post's content, and each incident's living message as it reads after
    /// its last create or edit, one timeline line per string (narration lives there, not in posts of its own).
    static func contents(_ records: [FakeDiscord.Record]) -> [String] {
        var texts: [String] = []
        var living: [String: [String]] = [:]
        for record in records {
            if record.request.target.contains("wait=true") || record.request.method == "PATCH" {
                let embed = (record.json?["embeds"] as? [[String: Any]])?.first
                let fields = embed?["fields"] as? [[String: Any]] ?? []
                let incident = fields.first { $0["name"] as? String == "Incident" }?["value"] as? String ?? "?"
                living[incident] = ((embed?["description"] as? String) ?? "").components(separatedBy: "\n")
            } else if let content = record.json?["content"] as? String {
                texts.append(content)
            }
        }
        return texts + living.keys.sorted().flatMap { living[$0] ?? [] }
    }

    /// Requests that created a message: the incident messages, recoveries and pages (edits not counted).
    static func posts(_ records: [FakeDiscord.Record]) -> [FakeDiscord.Record] {
        records.filter { $0.request.method == "POST" }
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
