import Foundation
import Testing
import ZumikTestSupport

/// The agent's container files as shipped, against a real Docker engine (`scripts/with-docker.sh`).
@Suite(.enabled(if: DockerEngine.available, "no Docker engine (run under scripts/with-docker.sh)"))
struct DeployShippedTests {
    /// `docker compose up` builds the agent's image here and never pulls it: whoever could publish an image
    /// under that name would otherwise supply the container that gets the Docker socket.
    @Test func composeNeverPullsTheAgentImage() async throws {
        let compose = "\(TestBundleFactory.packageRoot)/deploy/compose.yaml"
        let output = try await DockerEngine.run(["compose", "-f", compose, "--dry-run", "up", "-d"])
        let text = output.stdout + output.stderr
        #expect(output.status == 0, "\(text)")
        #expect(text.contains("build service ops-agent"), "\(text)")
        #expect(!text.contains("Pulling"), "\(text)")
        #expect(!text.contains("registry"), "\(text)")
    }

    /// The repository's `.dockerignore`, in a real build: a context laid out like a working tree sends the
    /// sources and manifests, never build folders, git history or local state.
    @Test func dockerignoreKeepsTheContextToTheSources() async throws {
        let context = try TempDir("zumik-context")
        defer { context.remove() }
        let kept = ["Package.swift", "Sources/A/a.swift", "Tests/T/t.swift", "Plugins/P/manifest.json", "docs/a.md"]
        let dropped = [
            ".build/debug/zumik-ops-agent", ".build-release/x", ".build_fuzz/x", ".git/HEAD", ".swiftpm/x",
            "Benchmarks/.build/x", ".schemathesis/x", "Sources/A/a.o", "monitor.sqlite", "monitor.sqlite-wal",
        ]
        for file in kept + dropped {
            let path = context.file(file)
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try "x\n".write(toFile: path, atomically: false, encoding: .utf8)
        }
        try FileManager.default.copyItem(
            atPath: "\(TestBundleFactory.packageRoot)/.dockerignore",
            toPath: context.file(".dockerignore")
        )
        try "FROM local/busybox:test\nCOPY . /ctx\n".write(
            toFile: context.file("Dockerfile"),
            atomically: false,
            encoding: .utf8
        )
        let image = "zumik-context-test:\(UInt32.random(in: 0...UInt32.max))"
        _ = try await DockerEngine.check(["build", "-q", "-t", image, context.path])
        let listing = try await DockerEngine.check([
            "run", "--rm", "--network", "none", image, "find", "/ctx", "-type", "f",
        ])
        _ = try? await DockerEngine.run(["rmi", "-f", image])
        let sent = Set(listing.split(separator: "\n").map { String($0.dropFirst("/ctx/".count)) })
        for file in kept { #expect(sent.contains(file), "\(file) missing from the context") }
        for file in dropped { #expect(!sent.contains(file), "\(file) sent in the context") }
    }
}
