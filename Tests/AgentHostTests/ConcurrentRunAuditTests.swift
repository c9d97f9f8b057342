import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 16 through the real binary: concurrent runs (one run thread each, their audit records
/// group-committed) each get their intent and completion, also when SIGTERM comes mid-run.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct ConcurrentRunAuditTests {
    static let runs = 6

    func manifest(sleep: String) -> String {
        testManifest(
            bundleID: "ai.zumik.nginx",
            actions: (0..<Self.runs).map { ("slow_\($0)", "sleep \(sleep)", 10, "lock_\($0)") }
        )
    }

    @Test func concurrentRunsEachHaveTheirIntentAndCompletion() async throws {
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: manifest(sleep: "0.05"), plugin: "NginxActions")]
        ) {
            agent in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for round in 0..<3 {
                    for index in 0..<Self.runs {
                        group.addTask { try await agent.run("slow_\(index)", json: #"{"reason":"r\#(round)"}"#).status }
                    }
                    // Same locks: a round waits for the previous one.
                    try await Task.sleep(for: .milliseconds(400))
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count >= Self.runs, "\(statuses)")
            let records = try agent.auditRecords()
            let intents = records.filter { $0["outcome"] as? String == "started" }.compactMap {
                $0["audit_id"] as? String
            }
            let completions = records.filter { $0["outcome"] as? String == "succeeded" }.compactMap {
                $0["audit_id"] as? String
            }
            #expect(intents.count == statuses.filter { $0 == 200 }.count, "one intent per run that ran")
            #expect(Set(intents) == Set(completions) && completions.count == intents.count)
            for id in intents {
                let lines = records.filter { $0["audit_id"] as? String == id }.compactMap { $0["outcome"] as? String }
                #expect(lines == ["started", "succeeded"], "\(id): intent before completion")
            }
        }
    }

    @Test func sigtermMidRunLosesNoRecord() async throws {
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: manifest(sleep: "1"), plugin: "NginxActions")]) {
            agent in
            let runs = (0..<Self.runs).map { index in
                Task { try await agent.run("slow_\(index)").status }
            }
            let started = try await agent.eventually {
                try agent.auditRecords().filter { $0["outcome"] as? String == "started" }.count == Self.runs
            }
            try #require(started, "the runs did not start")
            kill(agent.process.pid, SIGTERM)
            var statuses: [Int] = []
            for run in runs { statuses.append((try? await run.value) ?? -1) }
            let exit = try await agent.process.waitForExit()
            #expect(exit == 0)
            #expect(statuses == Array(repeating: 200, count: Self.runs), "each run answered before the agent stopped")
            let records = try agent.auditRecords()
            let intents = Set(
                records.filter { $0["outcome"] as? String == "started" }.compactMap { $0["audit_id"] as? String }
            )
            let completions = Set(
                records.filter { $0["outcome"] as? String == "succeeded" }.compactMap { $0["audit_id"] as? String }
            )
            #expect(intents.count == Self.runs)
            #expect(intents == completions, "every intent has its completion after SIGTERM")
        }
    }
}
