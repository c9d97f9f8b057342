import ActionKit
import AgentHost
import BundleLoading
import CZumikSys
import Foundation
import Logging
import Testing
import ZumikTestSupport

@Suite struct BundleLoaderTests {
    @Test func loadsBothRealBundlesThroughTheRealLoader() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        let registry = fixture.registry()
        let report = registry.reload()
        #expect(report.refused == [])
        #expect(report.loaded.map(\.id) == ["ai.zumik.docker", "ai.zumik.nginx"])
        let catalog = registry.catalog()
        #expect(
            Set(catalog.actions.map(\.id)) == [
                "docker_service_states", "api_core_logs", "gateway_logs", "docker_disk_usage", "restart_api_core",
                "restart_gateway", "recreate_api_core", "restart_all", "prune_docker", "nginx_config_test",
                "nginx_error_log", "reload_nginx",
            ]
        )
        let restart = try #require(registry.action(id: "restart_api_core"))
        #expect(restart.spec.argv == ["/usr/bin/docker", "restart", "api-core"])
        #expect(restart.bundle.keyID == "test-ops")
        #expect(
            restart.bundle.sha256
                == BundleDigest.sha256Hex(
                    try readBytes("\(fixture.factory.bundlesDirectory)/docker/libDockerActions.so")
                )
        )
        let reload = try #require(registry.action(id: "reload_nginx"))
        #expect(reload.spec.preflightArgv == ["/usr/bin/docker", "exec", "nginx", "nginx", "-t"])
        #expect(registry.action(id: "no_such_action") == nil)
        // The plugin code runs: the dlopened Docker bundle reads compose output.
        let reading = try jsonObject(
            registry.action(id: "docker_service_states")?.interpret(
                exitCode: 0,
                signal: nil,
                stdout: Array(
                    #"{"Name":"api-core","Service":"api-core","State":"running","Health":"healthy","ExitCode":0}"#.utf8
                ),
                stderr: []
            )
        )
        #expect(reading["summary"] == .string("api-core: running (healthy)"))
        // The accepted serials were persisted.
        let serials = try JSONDecoder().decode(
            [String: Int].self,
            from: Data(contentsOf: URL(fileURLWithPath: "\(fixture.factory.stateDirectory)/accepted-serials.json"))
        )
        #expect(serials == ["ai.zumik.docker": 1, "ai.zumik.nginx": 1])
    }

    @Test func reloadKeepsLoadedImagesAndDropsRemovedBundles() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        let registry = fixture.registry()
        registry.reload()
        let first = try #require(registry.action(id: "restart_api_core"))
        // A new bundle appears (SIGHUP): it is added, the old one is not dlopened again.
        try fixture.pack("NginxActions", into: "nginx")
        let report = registry.reload()
        #expect(report.loaded.count == 2)
        let second = try #require(registry.action(id: "restart_api_core"))
        #expect(first.bundle == second.bundle)
        #expect(registry.action(id: "reload_nginx") != nil)
        // A removed bundle directory's actions leave the catalog.
        TestBundleFactory.removeTree("\(fixture.factory.bundlesDirectory)/docker")
        registry.reload()
        #expect(registry.action(id: "restart_api_core") == nil)
        #expect(registry.action(id: "reload_nginx") != nil)
        // What was already handed out keeps working: nothing is unloaded.
        let reading = try jsonObject(first.interpret(exitCode: 1, signal: nil, stdout: [], stderr: Array("boom".utf8)))
        #expect(reading["ok"] == .bool(false))
    }

    @Test func unsignedBundleIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        unlink("\(docker)/manifest.sig")
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "signature")
        #expect(refused.reason.contains("unsigned"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"], "the other bundle still loads")
    }

    @Test func flippedByteInLibraryIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        let library = "\(docker)/libDockerActions.so"
        var bytes = try readBytes(library)
        bytes[bytes.count / 2] ^= 0x01
        try overwriteInPlace(library, with: bytes)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "digest")
        #expect(refused.reason.contains("libDockerActions.so: SHA-256"))
        #expect(refused.reason.contains("does not match the manifest"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test func editedManifestIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        let path = "\(docker)/manifest.json"
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        // Still a valid manifest: only the signature can tell.
        let edited = text.replacingOccurrences(of: "\"--tail\",\n        \"200\"", with: "\"--tail\",\n        \"999\"")
        try #require(edited != text)
        try overwriteInPlace(path, with: Array(edited.utf8))
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "signature")
        #expect(refused.reason.contains("does not match manifest.json"))
    }

    @Test func signatureByUnknownKeyIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let stranger = try fixture.factory.makeKey(id: "stranger", trusted: false)
        try fixture.pack("DockerActions", into: "docker", key: stranger)
        try fixture.pack("NginxActions", into: "nginx")
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "signature")
        #expect(refused.reason.contains("unknown key \"stranger\""))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test func keyOutsideItsScopeIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let nginxOnly = try fixture.factory.makeKey(id: "nginx-only", scopes: ["ai.zumik.nginx"])
        try fixture.pack("DockerActions", into: "docker", key: nginxOnly)
        try fixture.pack("NginxActions", into: "nginx", key: nginxOnly)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "key-scope")
        #expect(
            refused.reason.contains("key \"nginx-only\" may sign only [ai.zumik.nginx], not bundle \"ai.zumik.docker\"")
        )
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"], "the key still signs what it is scoped to")
    }

    @Test func lowerSerialIsRefusedEqualIsAccepted() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker", serial: 5)
        #expect(fixture.registry().reload().loaded.map(\.serial) == [5])
        // The same serial again (a restart of the agent) is fine.
        #expect(fixture.registry().reload().loaded.map(\.serial) == [5])
        // An older bundle put back in place is a rollback, also in a fresh registry (state persisted).
        TestBundleFactory.removeTree("\(fixture.factory.bundlesDirectory)/docker")
        try fixture.pack("DockerActions", into: "docker", serial: 4)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "serial")
        #expect(refused.reason.contains("serial 4 of ai.zumik.docker is lower than the accepted serial 5"))
    }

    @Test func groupWritableDirectoryIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        try #require(chmod(docker, 0o775) == 0)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "safe-path")
        #expect(refused.reason.contains("is group- or other-writable (mode 0775)"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test func groupWritableFileIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try #require(chmod("\(docker)/manifest.json", 0o666) == 0)
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "safe-path")
        #expect(refused.reason.contains("manifest.json: is group- or other-writable"))
    }

    @Test func symlinkedLibraryIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        // The link points at identical, verified bytes: a symlink is refused whatever it points to.
        let library = "\(docker)/libDockerActions.so"
        let elsewhere = "\(fixture.factory.root)/libDockerActions.so"
        try #require(rename(library, elsewhere) == 0)
        try #require(symlink(elsewhere, library) == 0)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "docker", in: report))
        #expect(refused.step == "safe-path")
        #expect(refused.reason.contains("libDockerActions.so: is a symbolic link"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test func symlinkedBundleDirectoryIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let real = try fixture.factory.pack(
            manifest: TestBundleFactory.productionManifest(named: "DockerActions"),
            library: TestBundleFactory.builtLibrary(named: "DockerActions"),
            key: fixture.key,
            into: "../docker-elsewhere"
        )
        try #require(symlink(real, "\(fixture.factory.bundlesDirectory)/docker") == 0)
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "safe-path")
        #expect(refused.reason.contains("is a symbolic link"))
    }

    @Test func pluginWithWrongABIIsRefusedAtHandshake() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("WrongABIPlugin", into: "wrong-abi", manifest: BundleFixture.wrongABIManifest)
        try fixture.pack("NginxActions", into: "nginx")
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "wrong-abi", in: report))
        #expect(refused.step == "handshake")
        #expect(refused.reason.contains("plugin ABI major 99 is not this host's 1"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test func libraryOfAnotherBundleIsRefusedAtBundleID() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        // A validly signed nginx manifest shipped with the Docker library.
        try fixture.factory.pack(
            manifest: TestBundleFactory.productionManifest(named: "NginxActions"),
            library: TestBundleFactory.builtLibrary(named: "DockerActions"),
            key: fixture.key,
            into: "mixed"
        )
        let refused = try #require(fixture.refusal(of: "mixed", in: fixture.registry().reload()))
        #expect(refused.step == "bundle-id")
        #expect(
            refused.reason.contains(
                "reports bundle id \"ai.zumik.docker\" but the signed manifest says \"ai.zumik.nginx\""
            )
        )
    }

    @Test func twoCopiesOfOneBundleWithTheSameSerialKeepTheFirstByName() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "a-docker")
        try fixture.pack("DockerActions", into: "b-docker")
        try fixture.pack("NginxActions", into: "nginx")
        let registry = fixture.registry()
        let report = registry.reload()
        let refused = try #require(fixture.refusal(of: "b-docker", in: report))
        #expect(refused.step == "superseded")
        #expect(refused.reason.contains("ai.zumik.docker serial 1 is also in directory a-docker, which is kept"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.docker", "ai.zumik.nginx"])
        #expect(registry.catalog().actions.filter { $0.id == "restart_api_core" }.count == 1)
        #expect(registry.catalog().refusedBundles == report.refused)
    }

    @Test func twoBundlesOfOneKeyDeclaringTheSameActionIDKeepTheFirst() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        // Another bundle id under the same key, declaring an id the Docker bundle has.
        let clone = try TestBundleFactory.productionManifest(named: "TemplateActions")
            .replacingOccurrences(of: "\"host_load\"", with: "\"restart_api_core\"")
            .replacingOccurrences(of: "ai.zumik.host", with: "ai.zumik.hostclone")
        try fixture.pack("TemplateActions", into: "z-clone", manifest: clone)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "z-clone", in: report))
        #expect(refused.step == "duplicate-action")
        #expect(refused.reason.contains("\"restart_api_core\" (already provided by bundle docker)"))
        #expect(report.loaded.map(\.id) == ["ai.zumik.docker"])
    }

    @Test func rewritingTheLibraryAfterVerificationDoesNotChangeWhatRuns() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        let registry = fixture.registry()
        registry.reload()
        let action = try #require(registry.action(id: "docker_service_states"))
        let composeOutput = Array(#"{"Name":"gateway","Service":"gateway","State":"exited","ExitCode":137}"#.utf8)
        let before = try jsonObject(action.interpret(exitCode: 0, signal: nil, stdout: composeOutput, stderr: []))

        // Rewrite the file in place (same inode) with another plugin's code.
        let library = "\(docker)/libDockerActions.so"
        let original = try readBytes(library)
        let other = try readBytes(try TestBundleFactory.builtLibrary(named: "NginxActions"))
        try overwriteInPlace(library, with: other)
        #expect(try readBytes(library) != original)

        // The loaded code is still the verified Docker reader.
        let after = try jsonObject(action.interpret(exitCode: 0, signal: nil, stdout: composeOutput, stderr: []))
        #expect(after == before)
        #expect(after["summary"] == .string("gateway: exited (exit 137)"))

        // It runs from a sealed memfd holding exactly the verified bytes.
        let image = try #require(registry.loadedImages().first)
        #expect(image.isSealed)
        #expect(zumik_is_fully_sealed(image.memfd) == 1)
        let attempt: [UInt8] = [0x7F]
        let wrote = attempt.withUnsafeBytes { pwrite(image.memfd, $0.baseAddress, 1, 0) }
        #expect(wrote == -1 && errno == EPERM, "a sealed memfd refuses writes")
        #expect(ftruncate(image.memfd, 0) == -1, "a sealed memfd cannot shrink")
        var info = stat()
        #expect(fstat(image.memfd, &info) == 0 && Int(info.st_size) == original.count)
        let mapped = try readBytes("/proc/self/fd/\(image.memfd)")
        #expect(BundleDigest.sha256Hex(mapped) == action.bundle.sha256)

        // The next scan sees the rewritten file and refuses it; its actions leave the catalog.
        let report = registry.reload()
        #expect(fixture.refusal(of: "docker", in: report)?.step == "digest")
        #expect(registry.action(id: "docker_service_states") == nil)
    }

    @Test func unsafeTrustedKeysDirectoryRefusesEverything() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try #require(chmod(fixture.factory.trustedKeysDirectory, 0o777) == 0)
        let registry = fixture.registry()
        let report = registry.reload()
        #expect(report.loaded.isEmpty)
        #expect(report.refused.first?.step == "safe-path")
        #expect(report.refused.first?.reason.contains("trusted-keys directory") == true)
        #expect(registry.catalog().actions.isEmpty)
    }

    @Test func directorySafetyRules() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        // A root-owned sticky ancestor (/tmp) is accepted; the checked directory itself is not.
        try DirectorySafety.check(path: fixture.factory.bundlesDirectory)
        #expect(throws: DirectorySafety.Unsafe.self) { try DirectorySafety.check(path: "/tmp") }
        if geteuid() == 0 {
            let other = "\(fixture.factory.root)/owned-by-nobody"
            try #require(mkdir(other, 0o755) == 0)
            try #require(chown(other, 65534, 65534) == 0)
            do {
                try DirectorySafety.check(path: other)
                Issue.record("a directory owned by another user must be refused")
            } catch {
                #expect(error.reason.contains("owned by uid 65534"))
            }
        } else {
            print("skipping the foreign-owner case: needs root to chown")
        }
        let file = "\(fixture.factory.root)/a-file"
        try #require(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(throws: DirectorySafety.Unsafe.self) { try DirectorySafety.check(path: file) }
        #expect(throws: DirectorySafety.Unsafe.self) {
            try DirectorySafety.check(path: "\(fixture.factory.root)/missing")
        }
    }
}

@Suite struct BundleLoaderHardeningTests {
    @Test func manifestDeclaringAnotherABIThanTheLibraryIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let manifest = try TestBundleFactory.productionManifest(named: "DockerActions")
            .replacingOccurrences(of: "\"minor\": 0", with: "\"minor\": 3")
        try fixture.pack("DockerActions", into: "docker", manifest: manifest)
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "handshake")
        #expect(refused.reason.contains("declares ABI 1.3 but the library reports 1.0"))
    }

    @Test func missingArtifactForThisPlatformIsRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        let path = "\(docker)/manifest.json"
        let text = String(decoding: try readBytes(path), as: UTF8.self)
            .replacingOccurrences(of: "\"linux-x86_64\"", with: "\"linux-riscv64\"")
            .replacingOccurrences(of: "\"linux-aarch64\"", with: "\"linux-riscv64\"")
        try overwriteInPlace(path, with: Array(text.utf8))
        _ = try BundlePacker.sign(directory: docker, key: fixture.key)
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "artifact")
        #expect(refused.reason.contains("no artifact for platform"))
        #expect(refused.reason.contains("linux-riscv64"))
    }

    @Test func invalidSignedManifestIsRefusedAtManifest() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        let path = "\(docker)/manifest.json"
        let text = String(decoding: try readBytes(path), as: UTF8.self)
            .replacingOccurrences(of: "\"timeout_s\": 120", with: "\"timeout_s\": 7200")
        try overwriteInPlace(path, with: Array(text.utf8))
        // Signed as it is (bypassing `sign`, which validates first).
        try overwriteInPlace(
            "\(docker)/manifest.sig",
            with: try fixture.key.sign(manifest: Array(text.utf8)).fileBytes
        )
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "manifest")
        #expect(refused.reason.contains("$.actions[4].timeout_s: must be between 1 and 3600 (got 7200)"))
    }

    @Test func damagedAcceptedSerialsStopLoadingRatherThanForget() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try Data("not json".utf8).write(
            to: URL(fileURLWithPath: "\(fixture.factory.stateDirectory)/accepted-serials.json")
        )
        let registry = fixture.registry()
        let report = registry.reload()
        #expect(report.loaded.isEmpty)
        #expect(report.refused.first?.step == "serial")
        #expect(report.refused.first?.reason.contains("accepted-serials.json") == true)
    }

    @Test func strayEntriesInABundleDirectoryAreRefused() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try #require(mkdir("\(docker)/extra", 0o755) == 0)
        let refused = try #require(fixture.refusal(of: "docker", in: fixture.registry().reload()))
        #expect(refused.step == "safe-path")
        #expect(refused.reason.contains("extra: is not a regular file"))
    }

    @Test func concurrentReadersDuringReloadSeeACompleteCatalog() async throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        let registry = fixture.registry()
        registry.reload()
        await withTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                group.addTask {
                    if index % 2 == 0 { registry.reload() }
                    return registry.catalog().actions.count
                }
            }
            for await count in group {
                #expect(count == 12)
            }
        }
    }
}

@Suite struct BundleLoggingTests {
    @Test func refusalsAreLoggedWithTheBundleAndStep() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let docker = try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        unlink("\(docker)/manifest.sig")
        let handler = RecordingLogHandler()
        let registry = fixture.registry(logger: Logger(label: "test", factory: { _ in handler }))
        registry.reload()
        let refusal = try #require(handler.records.first { $0.message == "bundle refused" })
        #expect(refusal.level == .error)
        #expect(refusal.metadata["bundle.directory"] == "docker")
        #expect(refusal.metadata["bundle.step"] == "signature")
        let summary = try #require(handler.records.first { $0.message == "bundles scanned" })
        #expect(summary.metadata["bundles.loaded"] == "1")
        #expect(summary.metadata["bundles.refused"] == "1")
        // Nothing logged carries key material.
        let keyFile = try #require(
            try JSONSerialization.jsonObject(with: Data(fixture.key.fileBytes)) as? [String: String]
        )
        let secret = try #require(keyFile["private_key"])
        for record in handler.records {
            #expect(!record.message.contains(secret) && !record.metadata.description.contains(secret))
        }
    }
}

@Suite struct BundleReloadTests {
    /// Open memfds whose name carries `directory` (names are `memfd:zumik-bundle-<directory>`).
    private func memfds(named directory: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target.hasPrefix("/memfd:zumik-bundle-\(directory) ")
        }.count
    }

    @Test func aRefusedLibraryIsNotDlopenedAgainOnReload() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("WrongABIPlugin", into: "wrong-abi-reloaded", manifest: BundleFixture.wrongABIManifest)
        let registry = fixture.registry()
        for _ in 0..<3 {
            let report = registry.reload()
            #expect(report.refused.map(\.step) == ["handshake"])
            #expect(report.refused.first?.reason.contains("ABI major 99") == true)
        }
        #expect(try memfds(named: "wrong-abi-reloaded") == 1)
    }

    @Test func anAcceptedLibraryIsMappedOnceAcrossReloadsAndDirectories() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("NginxActions", into: "nginx-mapped-once")
        let registry = fixture.registry()
        for _ in 0..<3 { registry.reload() }
        #expect(registry.catalog().actions.count == 3)
        #expect(try memfds(named: "nginx-mapped-once") == 1)
    }
}

@Suite struct StateDirectoryTests {
    @Test func unsafeStateDirectoryLoadsNothing() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("NginxActions", into: "nginx")
        try #require(chmod(fixture.factory.stateDirectory, 0o777) == 0)
        let report = fixture.registry().reload()
        #expect(report.loaded.isEmpty)
        #expect(report.refused.first?.step == "serial")
        #expect(report.refused.first?.reason.contains("state directory:") == true)
        #expect(report.refused.first?.reason.contains("group- or other-writable") == true)
    }

    @Test func missingStateDirectoryIsCreatedPrivate() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("NginxActions", into: "nginx")
        TestBundleFactory.removeTree(fixture.factory.stateDirectory)
        #expect(fixture.registry().reload().loaded.count == 1)
        var info = stat()
        #expect(stat(fixture.factory.stateDirectory, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(stat("\(fixture.factory.stateDirectory)/accepted-serials.json", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }
}

@Suite struct KeyRevocationTests {
    @Test func removingATrustedKeyRemovesItsBundlesOnTheNextReload() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let other = try fixture.factory.makeKey(id: "nginx-signer", scopes: ["ai.zumik.nginx"])
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx", key: other)
        let registry = fixture.registry()
        #expect(registry.reload().loaded.count == 2)
        unlink("\(fixture.factory.trustedKeysDirectory)/test-ops.pub.json")
        let report = registry.reload()
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
        #expect(fixture.refusal(of: "docker", in: report)?.reason.contains("unknown key \"test-ops\"") == true)
        #expect(registry.action(id: "restart_api_core") == nil)
        #expect(registry.action(id: "reload_nginx") != nil)
    }
}
