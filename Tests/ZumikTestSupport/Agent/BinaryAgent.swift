import ActionKit
import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension TempDir {
    /// Writes a shell script (manifests may not hold `$`, so tests that need it run a file) and
    /// returns `sh -c` text that runs it.
    public func script(_ name: String, _ body: String) throws -> String {
        let path = file("\(name).sh")
        try body.write(toFile: path, atomically: false, encoding: .utf8)
        return "exec /bin/sh \(path)"
    }
}

/// An executable file (`#!/bin/sh`) holding `script`, named by its digest, for test manifests:
/// a manifest may not name a shell as `argv[0]` (no shell, ever), but it may run a fixed file.
public func testScriptFile(_ script: String) -> String {
    let directory = "/tmp/zumik-test-scripts-\(getuid())"
    mkdir(directory, 0o755)
    let path = "\(directory)/\(BundleDigest.sha256Hex(Array(script.utf8)).prefix(32))"
    if access(path, X_OK) == 0 { return path }
    let temp = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    try! ("#!/bin/sh\n" + script + "\n").write(toFile: temp, atomically: false, encoding: .utf8)
    chmod(temp, 0o755)
    rename(temp, path)
    return path
}

/// A test manifest (JSON text) for bundle `bundleID` whose actions run each script as a fixed
/// executable file (``testScriptFile(_:)``): packed with a real plugin whose table names the same
/// bundle id. Every action is a remediation but those named in `diagnostics`.
public func testManifest(
    bundleID: String,
    serial: Int = 1,
    actions: [(id: String, script: String, timeoutS: Int, lock: String)],
    killGraceS: Int = 1,
    diagnostics: Set<String> = []
)
    -> String
{
    let entries = actions.map { action -> [String: Any] in
        [
            "id": action.id, "title": action.id, "description": "Test action \(action.id).",
            "kind": diagnostics.contains(action.id) ? "diagnostic" : "remediation",
            "argv": [testScriptFile(action.script)], "timeout_s": action.timeoutS, "kill_grace_s": killGraceS,
            "lock": action.lock, "limits": ["max_runs": 1000, "window_s": 60], "targets": ["test"], "rank": 1,
            "max_output_bytes": 4096,
        ]
    }
    let manifest: [String: Any] = [
        "manifest_version": 1,
        "bundle": [
            "id": bundleID, "version": "1.0.\(serial)", "serial": serial, "abi": ["major": 1, "minor": 0],
            "artifacts": [String: Any](),
        ],
        "actions": entries,
    ]
    let data = try! JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
    return String(decoding: data, as: UTF8.self)
}

/// The real `zumik-ops-agent` over bundles signed at test time by ``TestBundleFactory``.
public final class BinaryAgent: Sendable {
    public static let token = "binary-test-token-0123456789"

    public let factory: TestBundleFactory
    public let key: SigningKey
    public let port: Int
    public let process: AgentProcess

    public var auditPath: String { factory.stateDirectory + "/audit.jsonl" }

    /// Packs `bundles` (directory name → (manifest text, plugin name or library path)) and starts
    /// the agent.
    /// `namespace`: run it inside that network namespace (``NetnsFleet``'s hub), listening on 0.0.0.0 there.
    public init(
        bundles: [(name: String, manifest: String, plugin: String)],
        extraArguments: [String] = [],
        environment: [String: String] = [:],
        namespace: String? = nil
    ) async throws {
        factory = try TestBundleFactory()
        key = try factory.makeKey(id: "test-key", scopes: ["ai.zumik.*"])
        for bundle in bundles {
            try factory.pack(
                manifest: bundle.manifest,
                library: Self.library(bundle.plugin),
                key: key,
                into: bundle.name
            )
        }
        port = try AgentBinary.freePort()
        var env = ["OPS_AGENT_TOKEN": Self.token]
        env.merge(environment) { $1 }
        process = try AgentProcess(
            arguments: Self.arguments(factory: factory, port: port, host: namespace == nil ? "127.0.0.1" : "0.0.0.0")
                + extraArguments,
            environment: env,
            port: port,
            stderrPath: factory.root + "/agent.stderr",
            launcher: namespace.map { [NetnsFleet.ipTool ?? "ip", "netns", "exec", $0] } ?? [],
            namespace: namespace
        )
        do {
            try await process.waitUntilHealthy()
        } catch {
            await process.stop()
            factory.remove()
            throw error
        }
    }

    /// Starts an agent, runs `body`, and stops it (also when `body` throws).
    public static func with(
        bundles: [(name: String, manifest: String, plugin: String)],
        extraArguments: [String] = [],
        environment: [String: String] = [:],
        _ body: (BinaryAgent) async throws -> Void
    ) async throws {
        let agent = try await BinaryAgent(bundles: bundles, extraArguments: extraArguments, environment: environment)
        do {
            try await body(agent)
        } catch {
            await agent.stop()
            throw error
        }
        await agent.stop()
    }

    public func pack(name: String, manifest: String, plugin: String) throws {
        try factory.pack(
            manifest: manifest,
            library: Self.library(plugin),
            key: key,
            into: name
        )
    }

    static func arguments(factory: TestBundleFactory, port: Int, host: String = "127.0.0.1") -> [String] {
        [
            "--host", host, "--port", "\(port)", "--bundles-dir", factory.bundlesDirectory,
            "--trusted-keys-dir", factory.trustedKeysDirectory, "--state-dir", factory.stateDirectory,
            "--rate-limit-burst", "100000", "--rate-limit-per-second", "1000",
        ]
    }

    /// Another agent process on the same bundles and state (after this one was killed), on a new
    /// port, healthy when returned. The caller stops it.
    public func launchAnother(extraArguments: [String] = []) async throws -> AgentProcess {
        let port = try AgentBinary.freePort()
        let process = try AgentProcess(
            arguments: Self.arguments(factory: factory, port: port) + extraArguments,
            environment: ["OPS_AGENT_TOKEN": Self.token],
            port: port,
            stderrPath: factory.root + "/agent2.stderr"
        )
        do {
            try await process.waitUntilHealthy()
        } catch {
            await process.stop()
            throw error
        }
        return process
    }

    /// A built plugin by product name, or a library path (a plugin compiled by the test).
    static func library(_ plugin: String) throws -> String {
        plugin.hasPrefix("/") ? plugin : try TestBundleFactory.builtLibrary(named: plugin)
    }

    public func stop() async {
        await process.stop()
        factory.remove()
    }

    public func get(_ path: String) async throws -> RawHTTPResponse {
        try await RawHTTP.get(port: port, path, token: Self.token)
    }

    public func run(_ id: String, json: String = "") async throws -> RawHTTPResponse {
        try await RawHTTP.post(port: port, "/v1/actions/\(id)/run", token: Self.token, json: json)
    }

    public func catalogIDs() async throws -> [String] {
        let response = try await get("/v1/actions")
        let actions = try response.json()["actions"] as? [[String: Any]] ?? []
        return actions.compactMap { $0["id"] as? String }
    }

    public func auditRecords() throws -> [[String: Any]] {
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Polls `condition` every 100 ms for up to 30 s.
    public func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<300 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
