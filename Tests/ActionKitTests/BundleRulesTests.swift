import ActionKit
import BundleLoading
import Foundation
import Testing
import ZumikTestSupport

/// The rules between bundles (issue #12, findings 6, 7 and 8), through the real loader and the
/// real, built bundles.
@Suite struct BundleRulesTests {
    /// The Docker bundle's action ids, listed by the key that signs it.
    static let dockerActions = [
        "docker_*", "api_core_logs", "gateway_logs", "restart_api_core", "restart_gateway", "recreate_api_core",
        "restart_all", "prune_docker",
    ]

    /// The template bundle (`ai.zumik.host`) rewritten to declare `restart_api_core` as `/usr/bin/id`.
    static func hostileHostManifest() throws -> String {
        try TestBundleFactory.productionManifest(named: "TemplateActions")
            .replacingOccurrences(of: "\"host_load\"", with: "\"restart_api_core\"")
            .replacingOccurrences(of: "\"/usr/bin/uptime\"", with: "\"/usr/bin/id\"")
    }

    @Test(
        "A key scoped to another bundle cannot take an action another key lists, in either directory order",
        arguments: ["a-host", "z-host"]
    )
    func scopeTakeoverIsRefused(hostDirectory: String) throws {
        let fixture = try BundleFixture(scopes: ["ai.zumik.nginx"])
        defer { fixture.remove() }
        let dockerKey = try fixture.factory.makeKey(
            id: "ops-docker",
            scopes: ["ai.zumik.docker"],
            actions: Self.dockerActions
        )
        let hostKey = try fixture.factory.makeKey(id: "ops-host", scopes: ["ai.zumik.host"])
        try fixture.pack("DockerActions", into: "docker", key: dockerKey)
        try fixture.pack("TemplateActions", into: hostDirectory, key: hostKey, manifest: Self.hostileHostManifest())
        let registry = fixture.registry()
        let report = registry.reload()
        let refused = try #require(fixture.refusal(of: hostDirectory, in: report))
        #expect(refused.step == "key-scope")
        #expect(
            refused.reason.contains(
                "action \"restart_api_core\" belongs to key \"ops-docker\", not to key \"ops-host\""
            )
        )
        #expect(report.loaded.map(\.id) == ["ai.zumik.docker"], "the rightful bundle keeps loading")
        let restart = try #require(registry.action(id: "restart_api_core"))
        #expect(restart.spec.argv == ["/usr/bin/docker", "restart", "api-core"])
        #expect(restart.bundle.keyID == "ops-docker")
    }

    @Test func aKeyWithAnActionsListCannotDeclareOtherIDs() throws {
        let fixture = try BundleFixture(scopes: nil)
        defer { fixture.remove() }
        let hostKey = try fixture.factory.makeKey(id: "ops-host", scopes: ["ai.zumik.host"], actions: ["host_*"])
        try fixture.pack("TemplateActions", into: "host", key: hostKey, manifest: Self.hostileHostManifest())
        try fixture.pack("TemplateActions", into: "host-ok", key: hostKey, serial: 2)
        let report = fixture.registry().reload()
        let refused = try #require(fixture.refusal(of: "host", in: report))
        #expect(refused.step == "key-scope")
        #expect(refused.reason.contains("key \"ops-host\" may declare only actions [host_*], not \"restart_api_core\""))
        #expect(report.loaded.map(\.serial) == [2])
    }

    @Test(
        "An id claimed under two keys that list nothing is served by neither, in either directory order",
        arguments: ["a-host", "z-host"]
    )
    func anIDUnderTwoKeysIsServedByNeither(hostDirectory: String) throws {
        let fixture = try BundleFixture(scopes: ["ai.zumik.docker"])
        defer { fixture.remove() }
        let hostKey = try fixture.factory.makeKey(id: "ops-host", scopes: ["ai.zumik.host"])
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("TemplateActions", into: hostDirectory, key: hostKey, manifest: Self.hostileHostManifest())
        try fixture.pack("NginxActions", into: "nginx", key: try fixture.factory.makeKey(id: "ops-nginx"))
        let registry = fixture.registry()
        let report = registry.reload()
        #expect(fixture.refusal(of: "docker", in: report)?.step == "duplicate-action")
        let host = try #require(fixture.refusal(of: hostDirectory, in: report))
        #expect(host.step == "duplicate-action")
        #expect(host.reason.contains("\"restart_api_core\" is also declared by bundle docker (key \"test-ops\")"))
        #expect(registry.action(id: "restart_api_core") == nil)
        #expect(report.loaded.map(\.id) == ["ai.zumik.nginx"])
    }

    @Test(
        "Among copies of one bundle id the highest serial wins",
        arguments: [["a-new", "b-old"], ["b-new", "a-old"]]
    )
    func highestSerialWins(names: [String]) throws {
        let directories = (new: names[0], old: names[1])
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: directories.old, serial: 1)
        try fixture.pack("DockerActions", into: directories.new, serial: 2)
        let registry = fixture.registry()
        let report = registry.reload()
        #expect(report.loaded.map(\.serial) == [2])
        let refused = try #require(fixture.refusal(of: directories.old, in: report))
        #expect(refused.step == "superseded")
        #expect(
            refused.reason.contains(
                "ai.zumik.docker serial 1 is superseded by serial 2 in directory \(directories.new)"
            )
        )
        #expect(registry.action(id: "restart_api_core")?.bundle.serial == 2)
        // And serial 2 is what was recorded as accepted: serial 1 alone is now a rollback.
        try FileManager.default.removeItem(atPath: "\(fixture.factory.bundlesDirectory)/\(directories.new)")
        let next = fixture.registry().reload()
        #expect(next.loaded.isEmpty)
        #expect(fixture.refusal(of: directories.old, in: next)?.step == "serial")
    }

    /// Finding 7: a bundle directory swapped for a symlink (to a valid bundle elsewhere) while
    /// the registry reloads is never served.
    @Test func symlinkSwapDuringReloadsNeverServesTheSymlinkedBundle() throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        let bundles = fixture.factory.bundlesDirectory
        try fixture.pack("NginxActions", into: "nginx")
        // A valid bundle signed by the trusted key, outside the bundles directory.
        let outside = try fixture.pack("TemplateActions", into: "../outside-host")
        try #require(symlink(outside, "\(bundles)/.link") == 0)
        let swapper = DirectorySwapper(bundles: bundles, name: "nginx")
        swapper.start()
        let registry = fixture.registry()
        var served = 0
        var reloads = 0
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            registry.reload()
            reloads += 1
            if registry.catalog().actions.contains(where: { $0.bundle.id == "ai.zumik.host" }) { served += 1 }
        }
        let swaps = swapper.stop()
        print("symlink swap: \(swaps) swaps, \(reloads) reloads, symlinked bundle served \(served) times")
        #expect(swaps > 100, "the swapper ran")
        #expect(served == 0)
    }
}
