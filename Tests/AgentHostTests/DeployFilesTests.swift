import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The deploy files name flags and variables the agent really has.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct DeployFilesTests {
    /// `ExecStart` of the systemd unit, with its paths moved to temp directories and a free port.
    @Test func systemdUnitStartsTheAgent() async throws {
        let unit = try String(
            contentsOfFile: "\(TestBundleFactory.packageRoot)/deploy/systemd/zumik-ops-agent.service",
            encoding: .utf8
        )
        let execStart = try #require(
            unit.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
                .first { $0.hasPrefix("ExecStart=") }
        )
        var arguments = execStart.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(arguments.removeFirst() == "/usr/local/bin/zumik-ops-agent")
        let tokenVariable = try #require(
            unit.split(separator: "\n").first { $0.hasPrefix("Environment=OPS_AGENT_TOKEN_FILE=") }
        )
        #expect(!tokenVariable.isEmpty)

        let work = try TempDir()
        defer { work.remove() }
        for name in ["bundles", "keys"] { mkdir(work.file(name), 0o755) }
        let port = try AgentBinary.freePort()
        let replacements = [
            "/etc/zumik/bundles": work.file("bundles"), "/etc/zumik/trusted-keys": work.file("keys"),
            "/var/lib/zumik-ops-agent": work.file("state"), "8787": "\(port)",
        ]
        arguments = arguments.map { replacements[$0] ?? $0 }
        let tokenFile = work.file("token")
        try "deploy-test-token-0123456789\n".write(toFile: tokenFile, atomically: false, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let agent = try AgentProcess(
            arguments: arguments,
            environment: ["OPS_AGENT_TOKEN_FILE": tokenFile],
            port: port,
            stderrPath: work.file("stderr")
        )
        try await agent.waitUntilHealthy()
        let catalog = try await RawHTTP.get(port: port, "/v1/actions", token: "deploy-test-token-0123456789")
        #expect(catalog.status == 200)
        await agent.stop()
        #expect(agent.process.terminationStatus == 0)
        // --log-format json, as the unit asks.
        for line in agent.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
    }

    /// Every `ZUMIK_*` / `OPS_AGENT_*` variable the deploy files set is one the agent reads.
    @Test func deployFilesOnlySetKnownVariables() throws {
        let known: Set<String> = [
            "OPS_AGENT_LISTEN", "OPS_AGENT_TOKEN", "OPS_AGENT_TOKEN_FILE", "ZUMIK_BUNDLES_DIR",
            "ZUMIK_TRUSTED_KEYS_DIR",
            "ZUMIK_STATE_DIR", "ZUMIK_AUDIT_LOG", "ZUMIK_TRUSTED_PROXIES", "ZUMIK_DOCKER_HOST", "ZUMIK_LOG_FORMAT",
            "ZUMIK_LOG_LEVEL", "ZUMIK_RATE_LIMIT_BURST", "ZUMIK_RATE_LIMIT_PER_SECOND",
            "ZUMIK_RATE_LIMIT_FAILED_AUTH_COST", "ZUMIK_RATE_LIMIT_MAX_CLIENTS",
        ]
        let root = TestBundleFactory.packageRoot
        for file in ["deploy/compose.yaml", "deploy/agent/Dockerfile", "deploy/systemd/zumik-ops-agent.service"] {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            let pattern = try Regex(#"\b((?:ZUMIK|OPS_AGENT)_[A-Z_]+)\s*[:=]"#)
            let names = text.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) }
            #expect(!names.isEmpty, "\(file)")
            for name in names { #expect(known.contains(name), "\(file) sets unknown \(name)") }
        }
        // And the agent reads each of them (the source names them).
        let source = try ["AgentConfiguration.swift"].map {
            try String(contentsOfFile: "\(root)/Sources/AgentHost/Config/\($0)", encoding: .utf8)
        }.joined()
        for name in known { #expect(source.contains("\"\(name)\""), "\(name) is not read") }
    }
}
