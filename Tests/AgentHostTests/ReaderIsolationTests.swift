import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Finding 2 of issue 12: plugin readers ran inside the agent, so one that crashed, exited or hung
/// took the agent down with it. Through the real binary and a real (C) plugin.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct ReaderIsolationTests {
    @Test func crashingExitingAndHangingReadersCostOnlyTheirAnswer() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let library = try HostilePlugin.build(in: work.path)
        let ids = ["reader_crash", "reader_exit", "reader_hang", "reader_ok", "reader_probe"]
        try await BinaryAgent.with(
            bundles: [(name: "hostile", manifest: HostilePlugin.manifest(ids), plugin: library)]
        ) { agent in
            func readerError(_ id: String) async throws -> String? {
                let response = try await agent.run(id)
                #expect(response.status == 200, "\(id): \(response.text)")
                let body = try response.json()
                #expect(body["outcome"] as? String == "succeeded")
                let interpretation = body["interpretation"] as? [String: Any]
                return interpretation?["error"] as? String
            }

            let crash = try await readerError("reader_crash")
            #expect(crash?.hasPrefix("reader failed: killed by signal 11") == true, "\(crash ?? "nil")")
            #expect(try await agent.get("/healthz").status == 200)

            let exit = try await readerError("reader_exit")
            #expect(exit == "reader failed: exited before answering")
            #expect(try await agent.get("/healthz").status == 200)

            // While a reader hangs, the agent serves health, the catalog and other actions.
            let started = ContinuousClock.now
            async let hang = readerError("reader_hang")
            try await Task.sleep(for: .milliseconds(300))
            for _ in 0..<3 {
                let health = ContinuousClock.now
                #expect(try await agent.get("/healthz").status == 200)
                #expect(health.duration(to: .now) < .seconds(1))
            }
            #expect(try await agent.catalogIDs().count == ids.count)
            let ok = try await agent.run("reader_ok")
            #expect((try ok.json()["interpretation"] as? [String: Any])?["ok"] as? Bool == true)
            let hung = try await hang
            print("reader isolation: hanging reader answered after \(started.duration(to: .now))")
            #expect(hung?.hasPrefix("reader failed: no answer within") == true, "\(hung ?? "nil")")

            // The reader ran in a helper: another process, only its five descriptors, no environment.
            let probe = try await agent.run("reader_probe")
            let seen = try #require(try probe.json()["interpretation"] as? [String: Any])
            #expect(seen["pid"] as? Int != Int(agent.process.pid))
            #expect(seen["fds"] as? [Int] == [0, 1, 2, 3, 4])
            #expect(seen["env"] as? Int == 0)
            // Every run is audited: an intent and a completion each.
            let records = try agent.auditRecords()
            for id in ids {
                let outcomes = records.filter { $0["action"] as? String == id }.compactMap { $0["outcome"] as? String }
                #expect(outcomes == ["started", "succeeded"], "\(id): \(outcomes)")
            }
            // A healthy helper stays for the next call of its bundle (no start-up per run).
            let again = try #require(try await agent.run("reader_probe").json()["interpretation"] as? [String: Any])
            #expect(again["pid"] as? Int == seen["pid"] as? Int)
            var latencies: [Duration] = []
            for _ in 0..<20 {
                let start = ContinuousClock.now
                #expect(try await agent.run("reader_ok").status == 200)
                latencies.append(start.duration(to: .now))
            }
            print("reader isolation: run of 'true' with a warm reader helper, p50 \(latencies.sorted()[10])")

            // SIGTERM still completes, with status 0.
            await agent.process.stop()
            #expect(!agent.process.process.isRunning)
            #expect(agent.process.process.terminationStatus == 0)
        }
    }
}
