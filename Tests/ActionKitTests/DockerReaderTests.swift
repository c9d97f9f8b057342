import ActionKit
import AgentHost
import BundleLoading
import Foundation
import Testing
import ZumikTestSupport

/// A command's result, run directly (no shell), as the agent's runner would.
struct CommandResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
}

func runCommand(_ argv: [String]) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: argv[0])
    process.arguments = Array(argv.dropFirst())
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: [UInt8](stdout), stderr: [UInt8](stderr))
}

/// The Docker engine of `scripts/with-docker.sh`, when the tests run under it.
enum DockerEngine {
    static let cli = "/usr/bin/docker"

    static let available: Bool = {
        guard let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], !host.isEmpty,
            FileManager.default.isExecutableFile(atPath: cli)
        else { return false }
        return (try? runCommand([cli, "version"]).status) == 0
    }()
}

/// The Docker bundle's readers on the output of the real commands its manifest allowlists, against
/// a real engine and a small compose stack.
@Suite(
    .serialized,
    .enabled(
        if: DockerEngine.available,
        "no Docker engine: run under scripts/with-docker.sh (DOCKER_HOST set and `docker version` answering)"
    )
)
struct DockerReaderTests {
    @Test func readersUnderstandRealComposeAndLogsOutput() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let project = "zumikreaders\(suffix)"
        let gateway = "zumik-readers-gateway-\(suffix)"
        let composePath = "\(fixture.factory.root)/docker-compose.yml"
        let compose = """
            name: \(project)
            services:
              api-core:
                image: local/busybox:test
                container_name: zumik-readers-api-core-\(suffix)
                network_mode: host
                init: true
                pull_policy: never
                command: ["sleep", "300"]
              gateway:
                image: local/busybox:test
                container_name: \(gateway)
                network_mode: host
                init: true
                pull_policy: never
                command: ["sh", "-c", "echo 'GET /v2 Authorization: Bearer abcdefgh123456'; echo boom >&2; exit 3"]
            """
        try Data(compose.utf8).write(to: URL(fileURLWithPath: composePath))
        defer { _ = try? runCommand([DockerEngine.cli, "compose", "-f", composePath, "down", "--timeout", "1"]) }
        let up = try runCommand([DockerEngine.cli, "compose", "-f", composePath, "up", "-d"])
        try #require(up.status == 0, "compose up: \(String(decoding: up.stderr, as: UTF8.self))")
        // Wait (generously) for the gateway to have exited.
        var exited = false
        for _ in 0..<300 where !exited {
            let state = try runCommand([DockerEngine.cli, "inspect", "-f", "{{.State.Status}}", gateway])
            exited = String(decoding: state.stdout, as: UTF8.self).hasPrefix("exited")
            if !exited { usleep(100_000) }
        }
        try #require(exited, "the gateway container never exited")

        // The production manifest, changed only by string replacement: compose path and container name.
        let manifest = try TestBundleFactory.productionManifest(named: "DockerActions")
            .replacingOccurrences(of: "/srv/zumik/docker-compose.yml", with: composePath)
            .replacingOccurrences(of: "\"200\",\n        \"gateway\"", with: "\"200\",\n        \"\(gateway)\"")
        try fixture.pack("DockerActions", into: "docker", manifest: manifest)
        let registry = fixture.registry()
        try #require(registry.reload().refused == [])

        func readingOf(_ id: String) throws -> [String: JSONValue] {
            let action = try #require(registry.action(id: id))
            let result = try runCommand(action.spec.argv)
            return try jsonObject(
                action.interpret(exitCode: result.status, signal: nil, stdout: result.stdout, stderr: result.stderr)
            )
        }

        let states = try readingOf("docker_service_states")
        #expect(states["ok"] == .bool(true), "\(states)")
        guard case .string(let summary) = states["summary"] else {
            Issue.record("no summary in \(states)")
            return
        }
        #expect(summary.contains("api-core: running"))
        #expect(summary.contains("gateway: exited (exit 3)"))
        #expect(states["unread_lines"] == .number(0))

        let logs = try readingOf("gateway_logs")
        guard case .object(let stdout) = logs["stdout"], case .string(let text) = stdout["text"],
            case .object(let stderr) = logs["stderr"]
        else {
            Issue.record("no tails in \(logs)")
            return
        }
        #expect(text == "GET /v2 Authorization: Bearer [REDACTED]")
        #expect(stderr["text"] == .string("boom"))

        let usage = try readingOf("docker_disk_usage")
        #expect(usage["ok"] == .bool(true))
    }
}
