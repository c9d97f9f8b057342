import ActionKit
import Foundation
import Testing
import ZumikTestSupport

/// Runs the built `zumik-actions` executable (beside the test binary) as an operator would.
private struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

private func zumikActionsPath() throws -> String {
    // The executable sits beside the plugin libraries in the build directory.
    let library = try TestBundleFactory.builtLibrary(named: "DockerActions")
    let path = URL(fileURLWithPath: library).deletingLastPathComponent().appendingPathComponent("zumik-actions").path
    try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) not built")
    return path
}

private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CLIResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try zumikActionsPath())
    process.arguments = arguments
    var env = ["PATH": "/usr/bin:/bin"]
    env.merge(environment) { _, new in new }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting so a large output cannot block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIResult(
        status: process.terminationStatus,
        stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self)
    )
}

/// The vendored schemas (`Specs.directory`).
private func specsDirectory() -> String {
    (Specs.directory ?? Specs.packageRoot.appendingPathComponent("specs")).path
}

/// `python3` on PATH.
private let python3: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/python3" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}()

@Suite struct CLITests {
    @Test func keygenWritesAPrivateKeyAndItsTrustedKey() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let out = "\(fixture.factory.root)/keys"
        let result = try run(["keygen", "--key-id", "ops-2026", "--out", out, "--scope", "ai.zumik.*"])
        #expect(result.status == 0, "\(result.stderr)")
        var info = stat()
        #expect(stat("\(out)/ops-2026.key.json", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let key = try SigningKey.load(path: "\(out)/ops-2026.key.json")
        #expect(key.keyID == "ops-2026")
        let trusted = try TrustedKey.parse(try readBytes("\(out)/ops-2026.pub.json"), path: "pub")
        #expect(trusted.scopes == ["ai.zumik.*"])
        #expect(trusted.publicKeyBytes == key.trustedKey().publicKeyBytes)
        // Never overwrites a key.
        let again = try run(["keygen", "--key-id", "ops-2026", "--out", out])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists"))
        let badID = try run(["keygen", "--key-id", "bad id!", "--out", out])
        #expect(badID.status != 0)
        #expect(badID.stderr.contains("key id \"bad id!\" must match"))
        let badScope = try run(["keygen", "--key-id", "k2", "--out", out, "--scope", "ai.*.docker"])
        #expect(badScope.status != 0)
        #expect(badScope.stderr.contains("scope \"ai.*.docker\""))
    }

    @Test func packVerifySignAndListEndToEnd() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let keys = "\(fixture.factory.root)/cli-keys"
        #expect(try run(["keygen", "--key-id", "ops-cli", "--out", keys, "--scope", "ai.zumik.*"]).status == 0)
        try #require(
            rename("\(keys)/ops-cli.pub.json", "\(fixture.factory.trustedKeysDirectory)/ops-cli.pub.json") == 0
        )
        let bundle = "\(fixture.factory.bundlesDirectory)/docker"
        let pack = try run([
            "pack", "--manifest", "\(TestBundleFactory.packageRoot)/Plugins/DockerActions/manifest.json",
            "--library", try TestBundleFactory.builtLibrary(named: "DockerActions"),
            "--key", "\(keys)/ops-cli.key.json", "--out", bundle, "--serial", "7",
        ])
        #expect(pack.status == 0, "\(pack.stderr)")
        #expect(pack.stdout.contains("packed ai.zumik.docker 1.0.0 serial 7"))

        let verify = try run(["verify", "--bundle", bundle, "--trusted-keys-dir", fixture.factory.trustedKeysDirectory])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.hasPrefix("ok: ai.zumik.docker 1.0.0 serial 7, signed by ops-cli, 9 actions"))

        // Directories from the environment; a human table by default.
        let environment = [
            "ZUMIK_BUNDLES_DIR": fixture.factory.bundlesDirectory,
            "ZUMIK_TRUSTED_KEYS_DIR": fixture.factory.trustedKeysDirectory,
        ]
        let list = try run(["list"], environment: environment)
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.count == 10)
        #expect(lines.contains { $0.hasPrefix("restart_api_core") && $0.contains("/usr/bin/docker restart api-core") })
        #expect(list.stderr.isEmpty)
        let json = try run(["list", "--json"], environment: environment)
        let catalog = try JSONDecoder().decode(AgentAPI.Catalog.self, from: Data(json.stdout.utf8))
        #expect(catalog.actions.count == 9)
        #expect(catalog.actions.allSatisfy { $0.bundle.serial == 7 && $0.bundle.keyID == "ops-cli" })

        // An operator edits the manifest: verify refuses it until it is re-signed.
        let manifestPath = "\(bundle)/manifest.json"
        let edited = String(decoding: try readBytes(manifestPath), as: UTF8.self)
            .replacingOccurrences(
                of: "\"api-core\"\n      ],\n      \"rank\": 10",
                with: "\"api-core\"\n      ],\n      \"rank\": 11"
            )
        try overwriteInPlace(manifestPath, with: Array(edited.utf8))
        let tampered = try run([
            "verify", "--bundle", bundle, "--trusted-keys-dir", fixture.factory.trustedKeysDirectory,
        ])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("bundle docker: signature:"))
        #expect(tampered.stderr.split(separator: "\n").count == 1, "one clear line: \(tampered.stderr)")
        let sign = try run(["sign", "--bundle", bundle, "--key", "\(keys)/ops-cli.key.json"])
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(
            try run(["verify", "--bundle", bundle, "--trusted-keys-dir", fixture.factory.trustedKeysDirectory]).status
                == 0
        )

        // A flipped library byte: verify names the bundle and the step; list shows it on stderr.
        let library = "\(bundle)/libDockerActions.so"
        var bytes = try readBytes(library)
        bytes[100] ^= 0xFF
        try overwriteInPlace(library, with: bytes)
        let flipped = try run([
            "verify", "--bundle", bundle, "--trusted-keys-dir", fixture.factory.trustedKeysDirectory,
        ])
        #expect(flipped.status == 1)
        #expect(flipped.stderr.contains("bundle docker: digest: libDockerActions.so: SHA-256"))
        let listAfter = try run(["list"], environment: environment)
        #expect(listAfter.stderr.contains("refused: docker: digest:"))
        // Signing a bundle whose library does not match its manifest is refused too.
        let signBad = try run(["sign", "--bundle", bundle, "--key", "\(keys)/ops-cli.key.json"])
        #expect(signBad.status != 0)
        #expect(signBad.stderr.contains("does not match the manifest"))
    }

    @Test func packRefusesAnInvalidManifestNamingThePath() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let template = try TestBundleFactory.productionManifest(named: "NginxActions")
            .replacingOccurrences(
                of:
                    "\"/usr/bin/docker\",\n        \"exec\",\n        \"nginx\",\n        \"nginx\",\n        \"-t\"\n      ],\n      \"timeout_s\"",
                with: "\"docker\",\n        \"exec\"\n      ],\n      \"timeout_s\""
            )
        let path = "\(fixture.factory.root)/bad-manifest.json"
        try #require(FileManager.default.createFile(atPath: path, contents: Data(template.utf8)))
        let result = try run([
            "pack", "--manifest", path, "--library", try TestBundleFactory.builtLibrary(named: "NginxActions"),
            "--key", fixture.factory.privateKeyPath(id: "test-ops"), "--out", "\(fixture.factory.bundlesDirectory)/n",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(path): $.actions[0].argv[0]: must be an absolute path (got \"docker\")"))
        #expect(!FileManager.default.fileExists(atPath: "\(fixture.factory.bundlesDirectory)/n/manifest.json"))
    }

    @Test func verifyAndListRefuseARollbackGivenTheStateDirectory() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let bundle = try fixture.pack("DockerActions", into: "docker", serial: 2)
        let state = fixture.factory.stateDirectory
        try Data("{\"ai.zumik.docker\": 3}".utf8).write(to: URL(fileURLWithPath: "\(state)/accepted-serials.json"))
        let trusted = fixture.factory.trustedKeysDirectory
        let verify = try run(["verify", "--bundle", bundle, "--trusted-keys-dir", trusted, "--state-dir", state])
        #expect(verify.status == 1)
        #expect(
            verify.stderr.contains(
                "bundle docker: serial: serial 2 of ai.zumik.docker is lower than the accepted serial 3"
            )
        )
        // Without the state directory the rollback cannot be seen; with it from the environment it is.
        #expect(try run(["verify", "--bundle", bundle, "--trusted-keys-dir", trusted]).status == 0)
        let list = try run(
            ["list", "--bundles-dir", fixture.factory.bundlesDirectory, "--trusted-keys-dir", trusted],
            environment: ["ZUMIK_STATE_DIR": state]
        )
        #expect(list.status == 0)
        #expect(list.stderr.contains("refused: docker: serial:"))
        #expect(list.stdout.split(separator: "\n").count == 1, "only the header: \(list.stdout)")
        // The tool never writes the state directory.
        let after = try String(contentsOfFile: "\(state)/accepted-serials.json", encoding: .utf8)
        #expect(after == "{\"ai.zumik.docker\": 3}")
    }

    @Test func missingDirectoriesAndBadFlagsFailClearly() throws {
        let noDirs = try run(["list"])
        #expect(noDirs.status != 0)
        #expect(noDirs.stderr.contains("pass --bundles-dir or set ZUMIK_BUNDLES_DIR"))
        let missingKey = try run(["sign", "--bundle", "/nonexistent", "--key", "/nonexistent/key.json"])
        #expect(missingKey.status != 0)
        #expect(missingKey.stderr.contains("/nonexistent/key.json"))
        let usage = try run(["pack", "--manifest"])
        #expect(usage.status == 64)
        let unknown = try run(["frobnicate"])
        #expect(unknown.status != 0)
    }

    @Test(.enabled(if: python3 != nil, "python3 is not on PATH: needed to run specs/validate.py"))
    func schemaIsAValidStrictChatRequestTools() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        let schema = try run([
            "schema", "--bundles-dir", fixture.factory.bundlesDirectory, "--trusted-keys-dir",
            fixture.factory.trustedKeysDirectory,
        ])
        #expect(schema.status == 0, "\(schema.stderr)")
        let tools = try #require(try JSONSerialization.jsonObject(with: Data(schema.stdout.utf8)) as? [[String: Any]])
        #expect(tools.count == 12)
        let request: [String: Any] = [
            "model": "gpt-4o-mini",
            "messages": [
                ["role": "system", "content": "You remediate outages using only the tools given."],
                ["role": "user", "content": "api.zumik.ai/healthz is down (HTTP 502)."],
            ],
            "tools": tools,
            "tool_choice": "auto",
        ]
        let requestPath = "\(fixture.factory.root)/request.json"
        try JSONSerialization.data(withJSONObject: request).write(to: URL(fileURLWithPath: requestPath))
        let specs = specsDirectory()
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: try #require(python3))
        validator.arguments = [
            "\(specs)/validate.py", "\(specs)/openai_chat_request.strict.schema.json", requestPath,
        ]
        let out = Pipe()
        validator.standardOutput = out
        validator.standardError = out
        try validator.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        validator.waitUntilExit()
        #expect(validator.terminationStatus == 0, "validate.py: \(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")

        // The validator really checks: a tool name with a space is refused.
        var broken = tools
        var function = try #require(broken[0]["function"] as? [String: Any])
        function["name"] = "restart api"
        broken[0]["function"] = function
        var badRequest = request
        badRequest["tools"] = broken
        try JSONSerialization.data(withJSONObject: badRequest).write(to: URL(fileURLWithPath: requestPath))
        let check = Process()
        check.executableURL = validator.executableURL
        check.arguments = validator.arguments
        check.standardOutput = Pipe()
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus != 0)
    }
}
