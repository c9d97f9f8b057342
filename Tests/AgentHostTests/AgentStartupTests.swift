import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Start-up refusals of the real binary: one clear line on stderr and a non-zero exit.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct AgentStartupTests {
    func start(_ arguments: [String], environment: [String: String], in directory: TempDir) throws -> AgentProcess {
        try AgentProcess(
            arguments: arguments,
            environment: environment,
            port: 0,
            stderrPath: directory.file("stderr-\(UUID())")
        )
    }

    func layout() throws -> (TempDir, [String]) {
        let directory = try TempDir()
        for name in ["bundles", "keys", "state"] { mkdir(directory.file(name), 0o700) }
        return (
            directory,
            [
                "--bundles-dir", directory.file("bundles"), "--trusted-keys-dir", directory.file("keys"), "--state-dir",
                directory.file("state"),
            ]
        )
    }

    @Test(arguments: [
        ("short token", ["OPS_AGENT_TOKEN": "short-token"], [String](), "OPS_AGENT_TOKEN: too short"),
        ("missing token", [:], [], "OPS_AGENT_TOKEN: missing"),
        (
            "bad listen", ["OPS_AGENT_TOKEN": "0123456789abcdef0", "OPS_AGENT_LISTEN": "nowhere:80"], [],
            "bad listen address"
        ),
        ("bad host flag", ["OPS_AGENT_TOKEN": "0123456789abcdef0"], ["--host", "example.com"], "bad listen address"),
        ("bad port flag", ["OPS_AGENT_TOKEN": "0123456789abcdef0"], ["--port", "65536"], "bad listen port"),
    ])
    func refusesToStart(name: String, environment: [String: String], extra: [String], expected: String) async throws {
        let (directory, arguments) = try layout()
        defer { directory.remove() }
        let agent = try start(arguments + extra, environment: environment, in: directory)
        let status = try await agent.waitForExit()
        #expect(status != 0, "\(name)")
        let lines = agent.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(name): \(agent.stderr)")
        #expect(lines.first?.contains(expected) == true, "\(name): \(agent.stderr)")
        #expect(lines.first?.hasPrefix("zumik-ops-agent: refusing to start:") == true, "\(name)")
        #expect(!agent.stderr.contains("0123456789abcdef0"))
    }

    @Test func refusesUnsafeDirectories() async throws {
        let (directory, arguments) = try layout()
        defer { directory.remove() }
        let environment = ["OPS_AGENT_TOKEN": "0123456789abcdef0"]
        chmod(directory.file("bundles"), 0o775)
        var agent = try start(arguments, environment: environment, in: directory)
        #expect(try await agent.waitForExit() != 0)
        #expect(agent.stderr.split(separator: "\n").count == 1)
        #expect(agent.stderr.contains("ZUMIK_BUNDLES_DIR") && agent.stderr.contains("group- or other-writable"))

        chmod(directory.file("bundles"), 0o700)
        symlink(directory.file("keys"), directory.file("keys-link"))
        let linked = arguments.map { $0 == directory.file("keys") ? directory.file("keys-link") : $0 }
        agent = try start(linked, environment: environment, in: directory)
        #expect(try await agent.waitForExit() != 0)
        #expect(agent.stderr.split(separator: "\n").count == 1)
        #expect(agent.stderr.contains("ZUMIK_TRUSTED_KEYS_DIR") && agent.stderr.contains("symbolic link"))

        let tokenFile = directory.file("token")
        try "0123456789abcdef0\n".write(toFile: tokenFile, atomically: false, encoding: .utf8)
        chmod(tokenFile, 0o644)
        agent = try start(arguments, environment: ["OPS_AGENT_TOKEN_FILE": tokenFile], in: directory)
        #expect(try await agent.waitForExit() != 0)
        #expect(agent.stderr.contains("OPS_AGENT_TOKEN_FILE") && agent.stderr.contains("readable by others"))
    }

    @Test func startsServesAndStopsOnSIGTERM() async throws {
        let (directory, arguments) = try layout()
        defer { directory.remove() }
        let tokenFile = directory.file("token")
        try "0123456789abcdef0\n".write(toFile: tokenFile, atomically: false, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let port = try AgentBinary.freePort()
        let agent = try AgentProcess(
            arguments: arguments + ["--port", "\(port)", "--log-format", "json"],
            environment: ["OPS_AGENT_TOKEN_FILE": tokenFile],
            port: port,
            stderrPath: directory.file("stderr")
        )
        try await agent.waitUntilHealthy()
        let catalog = try await RawHTTP.get(port: port, "/v1/actions", token: "0123456789abcdef0")
        #expect(catalog.status == 200)
        kill(agent.pid, SIGTERM)
        #expect(try await agent.waitForExit() == 0)
        #expect(!agent.stderr.contains("0123456789abcdef0"))
        // JSON log lines.
        for line in agent.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
    }
}
