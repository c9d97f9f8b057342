import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #12, finding 7, against the real agent binary: a bundle directory swapped for a symlink
/// (to a valid bundle outside the bundles directory) during repeated SIGHUP reloads is never served.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct BundleSwapBinaryTests {
    @Test func symlinkSwapDuringSIGHUPReloadsNeverServesTheSymlinkedBundle() async throws {
        let nginx = testManifest(bundleID: "ai.zumik.nginx", actions: [("noop", "true", 10, "noop")])
        let outsider = testManifest(bundleID: "ai.zumik.host", actions: [("outside_action", "true", 10, "outside")])
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: nginx, plugin: "NginxActions")]) { agent in
            let bundles = agent.factory.bundlesDirectory
            try agent.pack(name: "../outside-host", manifest: outsider, plugin: "TemplateActions")
            try #require(symlink("\(bundles)/../outside-host", "\(bundles)/.link") == 0)
            let swapper = DirectorySwapper(bundles: bundles, name: "nginx")
            swapper.start()
            var reads = 0
            var served = 0
            // Up to 500 reloads and reads, for at most 8 s (fewer on a loaded machine).
            let deadline = ContinuousClock.now + .seconds(8)
            while reads < 500, ContinuousClock.now < deadline {
                kill(agent.process.pid, SIGHUP)
                let catalog = try await agent.get("/v1/actions").json()
                let actions = catalog["actions"] as? [[String: Any]] ?? []
                if actions.contains(where: { ($0["bundle"] as? [String: Any])?["id"] as? String == "ai.zumik.host" }) {
                    served += 1
                }
                reads += 1
            }
            let swaps = swapper.stop()
            print(
                "symlink swap (binary): \(swaps) swaps, \(reads) catalog reads, symlinked bundle served \(served) times"
            )
            #expect(swaps > 100, "the swapper ran")
            #expect(reads >= 10)
            #expect(served == 0)
            // Settled: the real bundle is served again after one more reload.
            kill(agent.process.pid, SIGHUP)
            #expect(try await agent.eventually { try await agent.catalogIDs() == ["noop"] })
        }
    }
}
