import Foundation
import ZumikTestSupport

/// The Docker engine the test command provides (`scripts/with-docker.sh` exports `DOCKER_HOST`).
enum DockerEngine {
    /// Set when tests may use the engine: `DOCKER_HOST` is set and `docker version` answers.
    static let available: Bool = {
        guard let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], !host.isEmpty else { return false }
        return (try? runBlocking(["version", "--format", "{{.Server.Version}}"]).status) == 0
    }()

    static var host: String { ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? "" }

    /// The docker CLI the manifests name, where this machine has it.
    static var cliPath: String {
        for path in ["/usr/bin/docker", "/usr/local/bin/docker"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return "/usr/bin/docker"
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `docker ARGS` (on a thread of its own) and returns its status and output.
    static func run(_ arguments: [String]) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments) })
            }
        }
    }

    /// `docker ARGS`, which must succeed; its trimmed stdout.
    static func check(_ arguments: [String]) async throws -> String {
        let output = try await run(arguments)
        guard output.status == 0 else {
            throw RawHTTPError(
                message: "docker \(arguments.joined(separator: " ")) failed (\(output.status)): \(output.stderr)"
            )
        }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func runBlocking(_ arguments: [String], executable: String = cliPath, prefix: [String] = []) throws -> Output
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = prefix + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}

/// The test compose stack (`Tests/Fixtures/stack`) copied to a temp directory with free ports.
struct TestStack: Sendable {
    let directory: TempDir
    let apiCorePort: Int
    let gatewayPort: Int
    let nginxPort: Int
    var composePath: String { directory.file("compose.yaml") }
    var siteConfPath: String { directory.file("nginx-conf.d/site.conf") }

    static func up() async throws -> TestStack {
        let root = TestBundleFactory.packageRoot
        let image = try await run(["/bin/bash", "\(root)/scripts/make-nginx-image.sh"])
        guard image.status == 0 else { throw RawHTTPError(message: "make-nginx-image.sh: \(image.stderr)") }
        let directory = try TempDir("zumik-stack")
        let source = "\(root)/Tests/Fixtures/stack"
        try FileManager.default.copyItem(atPath: "\(source)/compose.yaml", toPath: directory.file("compose.yaml"))
        try FileManager.default.createDirectory(
            atPath: directory.file("nginx-conf.d"),
            withIntermediateDirectories: false
        )
        let stack = TestStack(
            directory: directory,
            apiCorePort: try AgentBinary.freePort(),
            gatewayPort: try AgentBinary.freePort(),
            nginxPort: try AgentBinary.freePort()
        )
        try "API_CORE_PORT=\(stack.apiCorePort)\nGATEWAY_PORT=\(stack.gatewayPort)\n".write(
            toFile: directory.file(".env"),
            atomically: false,
            encoding: .utf8
        )
        try stack.writeSite(marker: "v1")
        _ = try await DockerEngine.check(["compose", "-f", stack.composePath, "up", "-d"])
        for port in [stack.apiCorePort, stack.gatewayPort, stack.nginxPort] {
            guard try await stack.eventuallyServes(port: port) else {
                throw RawHTTPError(message: "stack service on \(port) did not come up")
            }
        }
        return stack
    }

    /// Rewrites the nginx site (atomically: the directory is bind-mounted) with `marker`.
    func writeSite(marker: String) throws {
        let template = try String(
            contentsOfFile: "\(TestBundleFactory.packageRoot)/Tests/Fixtures/stack/nginx-conf.d/site.conf",
            encoding: .utf8
        )
        let text = template.replacingOccurrences(of: "__NGINX_PORT__", with: "\(nginxPort)")
            .replacingOccurrences(of: "__MARKER__", with: marker)
        try text.write(toFile: siteConfPath, atomically: true, encoding: .utf8)
        chmod(siteConfPath, 0o644)
    }

    func eventuallyServes(port: Int, body expected: String? = nil) async throws -> Bool {
        for _ in 0..<150 {
            if let response = try? await RawHTTP.get(port: port, "/"), response.status == 200,
                expected == nil || response.text == expected
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func down() async {
        _ = try? await DockerEngine.run(["compose", "-f", composePath, "down", "--timeout", "1"])
        directory.remove()
    }

    static func run(_ argv: [String]) async throws -> DockerEngine.Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result { try DockerEngine.runBlocking(Array(argv.dropFirst()), executable: argv[0]) }
                )
            }
        }
    }
}
