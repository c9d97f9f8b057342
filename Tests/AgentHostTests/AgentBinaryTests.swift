import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real `zumik-ops-agent` binary serving bundles signed at test time, without Docker.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct AgentBinaryTests {
    @Test func runsSignedActionsAndReloadsOnSIGHUP() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let side = work.file("side")
        let first = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [("test_echo", "echo hello; echo ran >> \(side)", 10, "echo")]
        )
        try await BinaryAgent.with(bundles: [(name: "first", manifest: first, plugin: "NginxActions")]) { agent in

            #expect(try await agent.catalogIDs() == ["test_echo"])
            let response = try await agent.run("test_echo", json: #"{"reason":"test","incident":"inc-1"}"#)
            #expect(response.status == 200)
            let body = try response.json()
            #expect(body["outcome"] as? String == "succeeded")
            #expect(body["stdout_tail"] as? String == "hello\n")

            // A bundle dropped in after start appears after SIGHUP.
            let second = testManifest(
                bundleID: "ai.zumik.docker",
                actions: [("second_echo", "echo second >> \(side)", 10, "echo2")]
            )
            try agent.pack(name: "second", manifest: second, plugin: "DockerActions")
            #expect(try await agent.catalogIDs() == ["test_echo"])
            kill(agent.process.pid, SIGHUP)
            #expect(try await agent.eventually { try await agent.catalogIDs().contains("second_echo") })
            #expect(try await agent.run("second_echo").status == 200)

            // A removed bundle's actions leave the catalog (its code stays mapped; nothing is unloaded).
            TestBundleFactory.removeTree(agent.factory.bundlesDirectory + "/first")
            kill(agent.process.pid, SIGHUP)
            #expect(try await agent.eventually { try await agent.catalogIDs() == ["second_echo"] })
            let gone = try await agent.run("test_echo")
            #expect(gone.status == 404)

            let ran = try String(contentsOfFile: side, encoding: .utf8).split(separator: "\n")
            #expect(ran == ["ran", "second"])
            let outcomes = try agent.auditRecords().map { $0["outcome"] as? String ?? "?" }
            #expect(outcomes == ["started", "succeeded", "started", "succeeded"], "refusals wait for their summary")
            let firstRecord = try #require(try agent.auditRecords().first)
            #expect(firstRecord["bundle_id"] as? String == "ai.zumik.nginx")
            #expect((firstRecord["bundle_sha256"] as? String)?.count == 64)
            #expect(firstRecord["reason"] as? String == "test")
            #expect(!(try String(contentsOfFile: agent.auditPath, encoding: .utf8)).contains(BinaryAgent.token))
            #expect(!agent.process.stderr.contains(BinaryAgent.token))
            await agent.process.stop()
            #expect(agent.process.process.terminationStatus == 0)
            let summary = try #require(try agent.auditRecords().last)
            #expect(summary["outcome"] as? String == "refused")
            #expect(summary["refusals"] as? [String: Int] == ["not_found": 1])
        }
    }

    @Test func timeoutLocksAuthAndRefusedBundlesThroughTheBinary() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let side = work.file("side")
        let gate = work.file("gate")
        let pidFile = work.file("pid")
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                (
                    "hang", try work.script("hang", "echo $$ > \(pidFile); trap '' TERM; sleep 100 & sleep 100"), 1,
                    "hang"
                ),
                (
                    "locked_append",
                    try work.script(
                        "locked",
                        "echo run >> \(side); i=0; while [ ! -e \(gate) ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done"
                    ),
                    60, "shared"
                ),
            ]
        )
        let wrongABI = testManifest(bundleID: "ai.zumik.test.wrongabi", actions: [("never_runs", "true", 5, "x")])
        try await BinaryAgent.with(bundles: [
            (name: "good", manifest: manifest, plugin: "NginxActions"),
            (name: "wrong-abi", manifest: wrongABI, plugin: "WrongABIPlugin"),
        ]) { agent in

            // Serves although one bundle is refused, and says which and why.
            let catalog = try await agent.get("/v1/actions").json()
            let refused = try #require(catalog["refused_bundles"] as? [[String: Any]])
            #expect(refused.count == 1)
            #expect(refused.first?["directory"] as? String == "wrong-abi")
            #expect(refused.first?["step"] as? String == "handshake")
            #expect(try await agent.catalogIDs() == ["hang", "locked_append"])

            // Timeout: SIGTERM (ignored) then SIGKILL to the group; nothing of it survives.
            let hung = try await agent.run("hang").json()
            #expect(hung["outcome"] as? String == "timed_out")
            let pid = try #require(
                Int32(
                    try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            )
            #expect(processesInGroup(pid).isEmpty, "survivors of group \(pid)")

            // 20 concurrent requests for one locked action: exactly one runs.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await agent.run("locked_append").status } }
                var statuses: [Int] = []
                for try await status in group {
                    statuses.append(status)
                    if statuses.count == 19 { _ = FileManager.default.createFile(atPath: gate, contents: nil) }
                }
                return statuses
            }
            #expect(statuses.sorted() == [200] + Array(repeating: 409, count: 19))
            #expect(try String(contentsOfFile: side, encoding: .utf8) == "run\n")

            // The auth matrix: all 401 with WWW-Authenticate, nothing run.
            try? FileManager.default.removeItem(atPath: side)
            for header in [
                nil, "", "Basic dXNlcjpwYXNz", "Bearer wrong-token-0123456789", "Bearer \(BinaryAgent.token)x",
                "Bearer \(BinaryAgent.token.dropLast())", "bearer \(BinaryAgent.token)",
            ] {
                let response = try await RawHTTP.send(
                    port: agent.port,
                    method: "POST",
                    path: "/v1/actions/locked_append/run",
                    headers: header.map { [("Authorization", $0)] } ?? []
                )
                #expect(response.status == 401, "\(header ?? "none")")
                #expect(response.header("WWW-Authenticate") != nil)
            }
            #expect(!FileManager.default.fileExists(atPath: side))

            // Two records per run (the timeout, the one lock holder); the refusals counted in one
            // summary, written at the latest when the agent stops.
            await agent.process.stop()
            let records = try agent.auditRecords()
            #expect(records.count == 5)
            let counts = records.compactMap { $0["refusals"] as? [String: Int] }
            #expect(counts == [["unauthorized": 7, "busy": 19]])
        }
    }

    @Test func sigtermLetsARunningActionFinish() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let started = work.file("started")
        let done = work.file("done")
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [("slow_write", "touch \(started); sleep 2; echo finished > \(done); echo ok", 30, "slow")]
        )
        try await BinaryAgent.with(bundles: [(name: "slow", manifest: manifest, plugin: "NginxActions")]) { agent in
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                group.addTask { try await agent.run("slow_write") }
                #expect(try await agent.eventually { FileManager.default.fileExists(atPath: started) })
                kill(agent.process.pid, SIGTERM)
                let response = try #require(try await group.next())
                #expect(response.status == 200)
                #expect(try response.json()["outcome"] as? String == "succeeded")
            }
            #expect(FileManager.default.fileExists(atPath: done))
            #expect(try await agent.process.waitForExit() == 0)
            #expect(try agent.auditRecords().last?["outcome"] as? String == "succeeded")
        }
    }

    /// The agent ignores/traps SIGTERM and SIGHUP itself (service lifecycle); its children must
    /// not inherit that, or a timeout could only end in SIGKILL.
    @Test func childrenGetDefaultSignalDispositions() async throws {
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [("sleeper", "sleep 100", 1, "sleeper")],
            killGraceS: 60
        )
        try await BinaryAgent.with(bundles: [(name: "sleeper", manifest: manifest, plugin: "NginxActions")]) { agent in
            let body = try await agent.run("sleeper").json()
            #expect(body["outcome"] as? String == "timed_out")
            #expect(body["signal"] as? Int == Int(SIGTERM))
        }
    }

    /// The per-client bucket through the real flags: failed auth costs extra; 429 with Retry-After.
    @Test func rateLimitFlagsTakeEffect() async throws {
        let manifest = testManifest(bundleID: "ai.zumik.nginx", actions: [("rl_echo", "echo hi", 10, "rl")])
        try await BinaryAgent.with(
            bundles: [(name: "rl", manifest: manifest, plugin: "NginxActions")],
            extraArguments: [
                "--rate-limit-burst", "6", "--rate-limit-per-second", "0.01", "--rate-limit-failed-auth-cost", "2",
            ]
        ) { agent in
            // One failed attempt costs 1 + 2 tokens; three good requests use the rest.
            let denied = try await RawHTTP.post(
                port: agent.port,
                "/v1/actions/rl_echo/run",
                token: "wrong-token-0123456789"
            )
            #expect(denied.status == 401)
            for _ in 0..<3 { #expect(try await agent.get("/v1/actions").status == 200) }
            let limited = try await agent.run("rl_echo")
            #expect(limited.status == 429)
            #expect((limited.header("Retry-After").flatMap(Int.init) ?? 0) >= 1)
            #expect(try await RawHTTP.get(port: agent.port, "/healthz").status == 200)
            await agent.process.stop()
            let records = try agent.auditRecords()
            #expect(records.compactMap { $0["outcome"] as? String } == ["refused"])
            #expect(records.first?["refusals"] as? [String: Int] == ["unauthorized": 1, "rate_limited": 1])
        }
    }
}
