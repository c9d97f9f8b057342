import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Follows `docs/adding-a-bundle.md` step by step with the real binaries: the template bundle built by
/// `swift build`, a key from `zumik-actions keygen`, `zumik-actions pack`, a drop into the running agent's
/// bundle directory, SIGHUP, then `zumik-actions list` and `zumik-monitor tools` show its action.
@Suite(.serialized)
struct TemplateBundleWalkthroughTests {
    @Test(
        .enabled(
            if: AgentBinary.exists && Tool.exists("zumik-actions") && Tool.exists("zumik-monitor"),
            "needs the built zumik-ops-agent, zumik-actions and zumik-monitor beside the test binary"
        )
    )
    func addingTheTemplateBundleFollowsTheWalkthrough() async throws {
        let work = try TempDir("zumik-walkthrough")
        defer { work.remove() }
        let docker = try TestBundleFactory.productionManifest(named: "DockerActions")
        try await BinaryAgent.with(bundles: [(name: "docker", manifest: docker, plugin: "DockerActions")]) { agent in
            #expect(try await !agent.catalogIDs().contains("host_load"))

            // 1–4: a key for the operator, trusted by the agent; the template packed and signed with it.
            let keys = work.file("keys")
            let keygen = try Tool.run(
                "zumik-actions",
                ["keygen", "--key-id", "operator-2026", "--out", keys, "--scope", "ai.zumik.*"]
            )
            #expect(keygen.status == 0, "\(keygen.stderr)")
            try FileManager.default.copyItem(
                atPath: keys + "/operator-2026.pub.json",
                toPath: agent.factory.trustedKeysDirectory + "/operator-2026.pub.json"
            )
            let staged = work.file("host")
            let pack = try Tool.run(
                "zumik-actions",
                [
                    "pack", "--manifest", TestBundleFactory.packageRoot + "/Plugins/TemplateActions/manifest.json",
                    "--library", try TestBundleFactory.builtLibrary(named: "TemplateActions"),
                    "--key", keys + "/operator-2026.key.json", "--out", staged,
                ]
            )
            #expect(pack.status == 0, "\(pack.stderr)")
            let verify = try Tool.run(
                "zumik-actions",
                ["verify", "--bundle", staged, "--trusted-keys-dir", agent.factory.trustedKeysDirectory]
            )
            #expect(verify.status == 0, "\(verify.stderr)")

            // 5: drop it into the bundle directory and SIGHUP the agent.
            try FileManager.default.moveItem(atPath: staged, toPath: agent.factory.bundlesDirectory + "/host")
            #expect(kill(agent.process.process.processIdentifier, SIGHUP) == 0)
            #expect(try await agent.eventually { try await agent.catalogIDs().contains("host_load") })

            // The plugin's code was loaded: its reader turns uptime's text into three load averages.
            let run = try await agent.run("host_load", json: #"{"reason":"walkthrough"}"#)
            #expect(run.status == 200)
            let interpretation = try #require(try run.json()["interpretation"] as? [String: Any])
            #expect((interpretation["load"] as? [Double])?.count == 3)

            // 6: see it in `zumik-actions list` …
            let list = try Tool.run(
                "zumik-actions",
                [
                    "list", "--json", "--bundles-dir", agent.factory.bundlesDirectory,
                    "--trusted-keys-dir", agent.factory.trustedKeysDirectory,
                ]
            )
            #expect(list.status == 0, "\(list.stderr)")
            let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
            let actions = listed?["actions"] as? [[String: Any]] ?? []
            let hostLoad = try #require(actions.first { $0["id"] as? String == "host_load" })
            #expect((hostLoad["bundle"] as? [String: Any])?["id"] as? String == "ai.zumik.host")

            // … and in the monitor's tool schema for a property of a service it targets.
            let config = work.file("monitor.yaml")
            try """
            properties:
              - name: api-core
                url: http://127.0.0.1:9/healthz
                host: default
                service: api-core
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let tools = try Tool.run(
                "zumik-monitor",
                ["tools", "--config", config, "--property", "api-core"],
                environment: [
                    "OPS_AGENT_URL": "http://127.0.0.1:\(agent.port)", "OPS_AGENT_TOKEN": BinaryAgent.token,
                ]
            )
            #expect(tools.status == 0, "\(tools.stderr)")
            let schema = try JSONSerialization.jsonObject(with: Data(tools.stdout.utf8)) as? [[String: Any]] ?? []
            let names = schema.compactMap { ($0["function"] as? [String: Any])?["name"] as? String }
            #expect(names.contains("host_load"))
            #expect(names.contains("restart_api_core"))
            #expect(names.contains("escalate_to_human"))
            #expect(!names.contains("restart_gateway"), "an action that does not target api-core is not offered")

            // The schema is what the monitor sends: wrapped in a chat request it passes the strict spec.
            let request: [String: Any] = [
                "model": "gpt-4o-mini", "messages": [["role": "user", "content": "api-core is down"]],
                "tools": schema, "parallel_tool_calls": false,
            ]
            let body = try JSONSerialization.data(withJSONObject: request)
            let problem = await OpenAISpecs.validate(Array(body), against: "openai_chat_request.strict.schema.json")
            #expect(problem == nil, "\(problem ?? "")")
        }
    }
}

/// One of our command-line tools, beside the test binary.
enum Tool {
    static func path(_ name: String) -> String { AgentBinary.directory + "/" + name }

    static func exists(_ name: String) -> Bool { FileManager.default.isExecutableFile(atPath: path(name)) }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the tool to completion with only `environment` (plus a fixed PATH).
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(name))
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}
