import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 16, agent memory: the running binary's threads are bounded by construction — its event-loop
/// threads (one by default, `--event-loop-threads`), none of NIO's per-core singleton, and no thread
/// left behind by a run. Structure, not speed.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct AgentFootprintTests {
    static let manifest = testManifest(bundleID: "ai.zumik.nginx", actions: [("quick_run", "true", 10, "quick")])

    /// Thread names (`comm`) of process `pid`.
    func threadNames(_ pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap {
            (try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .newlines)
        }
    }

    @Test func oneEventLoopThreadByDefaultAndNoRunThreadLeftBehind() async throws {
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: Self.manifest, plugin: "NginxActions")]) {
            agent in
            let pid = agent.process.pid
            for _ in 0..<5 {
                #expect(try await agent.run("quick_run").status == 200)
            }
            let names = threadNames(pid)
            print("agent threads after 5 runs: \(names)")
            #expect(names.filter { $0.hasPrefix("NIO-ELT-") }.count == 1, "\(names)")
            #expect(!names.contains { $0.hasPrefix("NIO-SGLTN") }, "NIO's per-core singleton is not started: \(names)")
            let settled = try await agent.eventually { !threadNames(pid).contains("zumik-run") }
            #expect(settled, "each run's thread ends with its run: \(threadNames(pid))")
        }
    }

    @Test func theEventLoopThreadsAreConfigurable() async throws {
        try await BinaryAgent.with(
            bundles: [(name: "nginx", manifest: Self.manifest, plugin: "NginxActions")],
            extraArguments: ["--event-loop-threads", "3"]
        ) { agent in
            #expect(threadNames(agent.process.pid).filter { $0.hasPrefix("NIO-ELT-") }.count == 3)
        }
    }

    @Test func zeroEventLoopThreadsIsRefusedNamingTheSetting() throws {
        var options = AgentConfiguration.Options()
        options.eventLoopThreads = 0
        #expect {
            _ = try AgentConfiguration.resolve(options: options, environment: ["OPS_AGENT_TOKEN": BinaryAgent.token])
        } throws: { error in
            "\(error)".contains("--event-loop-threads / ZUMIK_EVENT_LOOP_THREADS")
        }
    }
}
