import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Findings 3 and 5 of issue 12 through the real binary: the audit is written ahead of the action,
/// a killed agent's runs are reconciled at restart, refusals cannot flood the log.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct WriteAheadAuditTests {
    func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    @Test func aFullAuditDiskRunsNothingAndSaysSo() async throws {
        guard getuid() == 0 else {
            print("skipped: mounting a small tmpfs for the audit log needs root")
            return
        }
        let work = try TempDir()
        defer { work.remove() }
        let mountPoint = work.file("audit-fs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k,mode=0700") == 0 else {
            print("skipped: cannot mount a tmpfs here: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let auditPath = mountPoint + "/audit.jsonl"
        let side = work.file("side")
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [("touch_side", "echo ran >> \(side)", 10, "side")]
        )
        try await BinaryAgent.with(
            bundles: [(name: "nginx", manifest: manifest, plugin: "NginxActions")],
            extraArguments: ["--audit-log", auditPath]
        ) { agent in
            func sideRuns() -> Int { lines(side).count }
            #expect(try await agent.run("touch_side").status == 200)
            #expect(sideRuns() == 1)

            // Fill the file system.
            let fillerFD = open(mountPoint + "/filler", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            try #require(fillerFD >= 0)
            let filler = FileHandle(fileDescriptor: fillerFD, closeOnDealloc: true)
            let block = Data(repeating: 0x41, count: 512)
            while (try? filler.write(contentsOf: block)) != nil {}
            try? filler.close()

            // Runs go on only while their records still fit in the log's last page; then none.
            var expected = sideRuns()
            var refused: RawHTTPResponse?
            for _ in 0..<40 {
                let response = try await agent.run("touch_side")
                if response.status == 200 {
                    expected += 1
                    #expect(sideRuns() == expected)
                    continue
                }
                refused = response
                break
            }
            let notRun = try #require(refused, "the full disk never refused a run")
            #expect(notRun.status == 503)
            let error = try #require(try notRun.json()["error"] as? [String: Any])
            #expect(error["outcome"] as? String == "not_run")
            #expect((error["message"] as? String)?.hasPrefix("not run") == true)
            #expect(sideRuns() == expected, "the refused run did not run")
            #expect(try await agent.get("/healthz").status == 200)

            // Space again: runs resume and every line of the log is a whole record.
            unlink(mountPoint + "/filler")
            let resumed = try await agent.run("touch_side")
            #expect(resumed.status == 200)
            #expect(sideRuns() == expected + 1)
            let records = try lines(auditPath).map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "torn: \($0)")
            }
            let started = records.filter { $0["outcome"] as? String == "started" }.compactMap {
                $0["audit_id"] as? String
            }
            let completed = records.filter { $0["outcome"] as? String == "succeeded" }.compactMap {
                $0["audit_id"] as? String
            }
            #expect(started.count == expected + 1, "one intent per run that ran")
            #expect(Set(started) == Set(completed), "every run that ran has its completion")
            // The refused run is counted with the refusals, written when the agent stops.
            await agent.process.stop()
            let summaries = try lines(auditPath).compactMap {
                (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["refusals"] as? [String: Int]
            }
            #expect(summaries == [["not_run": 1]])
        }
    }

    @Test func killNineMidActionLeavesNoSurvivorAfterRestart() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let long = try work.script("long", "setsid sleep 300 & sleep 300")
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [("long_run", long, 600, "shared"), ("quick_run", "true", 10, "shared")]
        )
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: manifest, plugin: "NginxActions")]) { agent in
            let run = Task { try? await agent.run("long_run") }
            defer { run.cancel() }
            // The intent is durable before the spawn; its id marks every process of the run.
            var runID = ""
            let running = try await agent.eventually {
                let intent = try agent.auditRecords().first { $0["outcome"] as? String == "started" }
                runID = intent?["audit_id"] as? String ?? ""
                return !runID.isEmpty && RunMarker.processes(markedWith: [runID]).count >= 3
            }
            try #require(running, "the long action did not start")
            kill(agent.process.pid, SIGKILL)
            _ = try await agent.process.waitForExit()
            let orphans = RunMarker.processes(markedWith: [runID])
            print("kill -9: \(orphans.count) processes of the run outlived the agent")
            #expect(!orphans.isEmpty, "the run's processes outlive a SIGKILLed agent (until the restart)")

            let restarted = try await agent.launchAnother()
            let survivors = RunMarker.processes(markedWith: [runID])
            print("kill -9: \(survivors.count) survivors after the restart")
            #expect(survivors.isEmpty)
            let records = try agent.auditRecords().filter { $0["audit_id"] as? String == runID }
            #expect(records.compactMap { $0["outcome"] as? String } == ["started", "unknown"])
            // The lock the dead run held is free.
            let quick = try await RawHTTP.post(
                port: restarted.port,
                "/v1/actions/quick_run/run",
                token: BinaryAgent.token
            )
            #expect(quick.status == 200, "\(quick.text)")
            await restarted.stop()
            #expect(restarted.process.terminationStatus == 0)
        }
    }

    @Test func aRefusalFloodWritesABoundedAmount() async throws {
        let manifest = testManifest(bundleID: "ai.zumik.nginx", actions: [("flood_target", "true", 10, "flood")])
        try await BinaryAgent.with(bundles: [(name: "nginx", manifest: manifest, plugin: "NginxActions")]) { agent in
            let before = size(agent.auditPath)
            let deadline = ContinuousClock.now + .seconds(3)
            let sent = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            let path =
                                worker % 2 == 0 ? "/v1/actions/flood_target/run" : "/v1/actions/nope_\(count)/run"
                            let response = try await RawHTTP.post(
                                port: agent.port,
                                path,
                                token: "wrong-token-0123456789abcdef"
                            )
                            #expect(response.status == 401 || response.status == 429)
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(size(agent.auditPath) == before, "nothing is written per refusal")
            await agent.process.stop()
            let bytes = size(agent.auditPath) - before
            let summaries = try agent.auditRecords().filter { $0["outcome"] as? String == "refused" }
            let counted = summaries.compactMap { $0["refusals"] as? [String: Int] }.flatMap(\.values).reduce(0, +)
            print("refusal flood: \(sent) refusals in 3 s wrote \(bytes) bytes in \(summaries.count) record(s)")
            #expect(counted == sent, "every refusal is counted")
            #expect(summaries.count == 1)
            #expect(bytes < 2048)
        }
    }
}
