import ActionKit
import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP API served by a real in-process agent on a loopback socket.
@Suite struct AgentAPITests {
    @Test func healthzIsOpenAndSaysNothingSecret() async throws {
        try await InProcessAgent.with(actions: []) { agent in
            let response = try await RawHTTP.get(port: agent.port, "/healthz")
            #expect(response.status == 200)
            let body = try response.json()
            #expect(body["status"] as? String == "ok")
            #expect(body["version"] as? String == AgentHost.version)
            #expect(Set(body.keys) == ["status", "version"])
            #expect(!response.text.contains(testToken))
            #expect(response.header("X-Request-Id") != nil)
        }
    }

    @Test func authMatrixIsAll401AndRunsNothing() async throws {
        let side = "/tmp/zumik-auth-side-\(UUID().uuidString)"
        defer { unlink(side) }
        let action = shellAction("touch_side", "echo ran >> \(side)")
        try await InProcessAgent.with(actions: [action]) { agent in
            let cases: [(String, [(String, String)])] = [
                ("no header", []),
                ("empty", [("Authorization", "")]),
                ("basic", [("Authorization", "Basic dXNlcjpwYXNz")]),
                ("wrong token", [("Authorization", "Bearer wrong-token-0123456789abcdef")]),
                ("token with suffix", [("Authorization", "Bearer \(testToken)x")]),
                ("prefix of token", [("Authorization", "Bearer \(testToken.dropLast())")]),
                ("lowercase scheme", [("Authorization", "bearer \(testToken)")]),
                ("bearer only", [("Authorization", "Bearer")]),
                ("two headers", [("Authorization", "Bearer \(testToken)"), ("Authorization", "Bearer \(testToken)")]),
            ]
            for (name, headers) in cases {
                let run = try await RawHTTP.send(
                    port: agent.port,
                    method: "POST",
                    path: "/v1/actions/touch_side/run",
                    headers: headers
                )
                #expect(run.status == 401, "\(name)")
                #expect(run.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(name)")
                #expect(run.errorMessage != nil, "\(name)")
                for path in ["/v1/actions", "/v1/audit", "/metrics"] {
                    let response = try await RawHTTP.send(port: agent.port, method: "GET", path: path, headers: headers)
                    #expect(response.status == 401, "\(name) \(path)")
                    #expect(response.header("WWW-Authenticate") != nil, "\(name) \(path)")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: side))
            // One summary for the client, not one record per refusal.
            let records = try agent.auditRecords()
            #expect(records.count == 1)
            #expect(records.first?["outcome"] as? String == "refused")
            #expect(records.first?["refusals"] as? [String: Int] == ["unauthorized": cases.count])
            #expect(records.allSatisfy { $0["status"] as? Int == 401 })
            #expect(records.allSatisfy { $0["action"] as? String == "touch_side" })
            let raw = try String(contentsOfFile: agent.auditPath, encoding: .utf8)
            #expect(!raw.contains(testToken.prefix(12)))
        }
    }

    @Test func runReturnsResultInterpretationAndAudit() async throws {
        let action = shellAction("say_hello", "echo hello; echo oops >&2; exit 3")
        try await InProcessAgent.with(actions: [action]) { agent in
            let response = try await RawHTTP.post(
                port: agent.port,
                "/v1/actions/say_hello/run",
                token: testToken,
                json: #"{"reason":"api-core is down; $(rm -rf /)","incident":"inc-42"}"#
            )
            #expect(response.status == 200)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(response.body))
            #expect(result.action == "say_hello")
            #expect(result.outcome == "failed")
            #expect(result.exitCode == 3)
            #expect(result.signal == nil)
            #expect(!result.timedOut)
            #expect(result.stdoutTail == "hello\n")
            #expect(result.stderrTail == "oops\n")
            #expect(result.stdoutBytes == 6)
            #expect(!result.truncated)
            #expect(result.interpretation == .object(["exit": .number(3), "signal": .null, "lines": .number(1)]))
            #expect(response.header("X-Audit-Id") == result.auditID)

            let records = try agent.auditRecords()
            let record = try #require(records.last)
            #expect(records.count == 2)
            #expect(records.first?["outcome"] as? String == "started", "the intent comes first")
            #expect(records.first?["audit_id"] as? String == result.auditID)
            #expect(record["audit_id"] as? String == result.auditID)
            #expect(record["outcome"] as? String == "failed")
            #expect(record["exit_code"] as? Int == 3)
            #expect(record["reason"] as? String == "api-core is down; $(rm -rf /)")
            #expect(record["incident"] as? String == "inc-42")
            #expect(record["bundle_id"] as? String == "ai.zumik.test")
            #expect(record["client_ip"] as? String == "127.0.0.1")
            #expect(record["stdout_bytes"] as? Int == 6)

            let page = try await RawHTTP.get(port: agent.port, "/v1/audit?limit=5", token: testToken)
            #expect(page.status == 200)
            let listed = try #require(try page.json()["records"] as? [[String: Any]])
            #expect(listed.count == 2)
            #expect(listed.last?["audit_id"] as? String == result.auditID)
        }
    }

    @Test func childGetsClearedEnvironmentRootCwdAndNullStdin() async throws {
        let env = RunnableAction(
            spec: ActionSpec(
                id: "show_env",
                title: "env",
                description: "env",
                kind: .diagnostic,
                argv: ["/usr/bin/env"],
                timeoutS: 5,
                killGraceS: 1,
                lock: "env",
                limits: ActionLimits(),
                targets: [],
                rank: 1,
                maxOutputBytes: 4096
            ),
            bundle: shellAction("x", "true").bundle
        )
        let cwdAndStdin = shellAction("cwd_stdin", "pwd; cat; echo end")
        try await InProcessAgent.with(actions: [env, cwdAndStdin]) { agent in
            setenv("ZUMIK_LEAK_CHECK", "leak", 1)
            defer { unsetenv("ZUMIK_LEAK_CHECK") }
            let first = try await RawHTTP.post(port: agent.port, "/v1/actions/show_env/run", token: testToken)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(first.body))
            #expect(result.stdoutTail == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nZUMIK_RUN_ID=\(result.auditID)\n")
            let second = try await RawHTTP.post(port: agent.port, "/v1/actions/cwd_stdin/run", token: testToken)
            let other = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(second.body))
            #expect(other.stdoutTail == "/\nend\n")
            #expect(other.outcome == "succeeded")
        }
    }

    @Test func dockerHostIsPassedOnlyWhenConfigured() async throws {
        let env = RunnableAction(
            spec: ActionSpec(
                id: "show_env",
                title: "env",
                description: "env",
                kind: .diagnostic,
                argv: ["/usr/bin/env"],
                timeoutS: 5,
                killGraceS: 1,
                lock: "env",
                limits: ActionLimits(),
                targets: [],
                rank: 1,
                maxOutputBytes: 4096
            ),
            bundle: shellAction("x", "true").bundle
        )
        try await InProcessAgent.with(actions: [env], configure: { $0.dockerHost = "unix:///run/test-docker.sock" }) {
            agent in
            let response = try await RawHTTP.post(port: agent.port, "/v1/actions/show_env/run", token: testToken)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(response.body))
            #expect(
                result.stdoutTail
                    == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nDOCKER_HOST=unix:///run/test-docker.sock\n"
                    + "ZUMIK_RUN_ID=\(result.auditID)\n"
            )
        }
    }

    @Test func timedOutActionLeavesNoProcessOfItsGroup() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let pidFile = directory.file("pid")
        let action = shellAction(
            "hang",
            "echo $$ > \(pidFile); trap '' TERM; sleep 100 & sleep 100",
            timeoutS: 1,
            killGraceS: 1
        )
        try await InProcessAgent.with(actions: [action]) { agent in
            let response = try await RawHTTP.post(port: agent.port, "/v1/actions/hang/run", token: testToken)
            #expect(response.status == 200)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(response.body))
            #expect(result.outcome == "timed_out")
            #expect(result.timedOut)
            #expect(result.signal != nil)
            let pid = try #require(
                Int32(
                    try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            )
            #expect(processesInGroup(pid).isEmpty, "survivors in group \(pid): \(processesInGroup(pid))")
            #expect(kill(-pid, 0) == -1 && errno == ESRCH)
            let record = try #require(try agent.auditRecords().last)
            #expect(record["outcome"] as? String == "timed_out")
            #expect(record["timed_out"] as? Bool == true)
        }
    }

    @Test func twentyConcurrentRequestsForALockedActionRunItOnce() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let side = directory.file("side")
        let gate = directory.file("gate")
        // Holds its lock until the test has seen all other 19 answers (or 30 s pass).
        let action = shellAction(
            "locked_append",
            "echo run >> \(side); i=0; while [ ! -e \(gate) ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done",
            timeoutS: 60,
            lock: "shared"
        )
        let other = shellAction("other_same_lock", "echo other >> \(side)", lock: "shared")
        try await InProcessAgent.with(actions: [action, other]) { agent in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await RawHTTP.post(
                            port: agent.port,
                            "/v1/actions/locked_append/run",
                            token: testToken
                        )
                        if response.status == 409 {
                            #expect(response.errorMessage?.contains("lock") == true)
                        }
                        return response.status
                    }
                }
                var statuses: [Int] = []
                for try await status in group {
                    statuses.append(status)
                    if statuses.count == 19 {
                        // The lock is shared: another action with the same key is refused too.
                        let sibling = try await RawHTTP.post(
                            port: agent.port,
                            "/v1/actions/other_same_lock/run",
                            token: testToken
                        )
                        #expect(sibling.status == 409)
                        _ = FileManager.default.createFile(atPath: gate, contents: nil)
                    }
                }
                return statuses
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 19)
            let ran = (try String(contentsOfFile: side, encoding: .utf8)).split(separator: "\n")
            #expect(ran == ["run"])
            let records = try agent.auditRecords()
            #expect(records.count == 3, "intent, completion, one refusal summary")
            #expect(try agent.refusalCounts() == ["busy": 20])
            // Released afterwards.
            let after = try await RawHTTP.post(port: agent.port, "/v1/actions/other_same_lock/run", token: testToken)
            #expect(after.status == 200)
        }
    }

    @Test func cooldownAnswers429WithRetryAfter() async throws {
        let action = shellAction("cool", "true", limits: ActionLimits(cooldownS: 3600))
        let windowed = shellAction("windowed", "true", limits: ActionLimits(maxRuns: 2, windowS: 600))
        try await InProcessAgent.with(actions: [action, windowed]) { agent in
            let first = try await RawHTTP.post(port: agent.port, "/v1/actions/cool/run", token: testToken)
            #expect(first.status == 200)
            let second = try await RawHTTP.post(port: agent.port, "/v1/actions/cool/run", token: testToken)
            #expect(second.status == 429)
            let retry = try #require(second.header("Retry-After").flatMap(Int.init))
            #expect((3500...3600).contains(retry))
            #expect(second.errorMessage?.contains("cooldown") == true)

            for _ in 0..<2 {
                #expect(
                    try await RawHTTP.post(port: agent.port, "/v1/actions/windowed/run", token: testToken).status == 200
                )
            }
            let third = try await RawHTTP.post(port: agent.port, "/v1/actions/windowed/run", token: testToken)
            #expect(third.status == 429)
            #expect((1...600).contains(try #require(third.header("Retry-After").flatMap(Int.init))))
            let outcomes = try agent.auditRecords().compactMap { $0["outcome"] as? String }
            #expect(outcomes == ["started", "succeeded", "started", "succeeded", "started", "succeeded", "refused"])
            #expect(try agent.refusalCounts() == ["limited": 2])
        }
    }

    @Test func perClientRateLimitAnswers429AndFailedAuthCostsMore() async throws {
        try await InProcessAgent.with(
            actions: [],
            configure: {
                $0.rateLimit = .init(burst: 10, refillPerSecond: 0.001, failedAuthCost: 4, maxTrackedClients: 100)
            }
        ) { agent in
            // Two failed attempts cost 2 × (1 + 4) = 10 tokens: the burst is gone.
            for _ in 0..<2 {
                #expect(try await RawHTTP.get(port: agent.port, "/v1/actions", token: "nope").status == 401)
            }
            let limited = try await RawHTTP.get(port: agent.port, "/v1/actions", token: testToken)
            #expect(limited.status == 429)
            let retry = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect(retry >= 1)
            #expect(limited.errorMessage == "rate limit exceeded for this client")
            // /healthz stays open for health checks.
            #expect(try await RawHTTP.get(port: agent.port, "/healthz").status == 200)
            // A refused run attempt is still audited.
            let run = try await RawHTTP.post(port: agent.port, "/v1/actions/anything/run", token: testToken)
            #expect(run.status == 429)
            #expect(try agent.refusalCounts() == ["rate_limited": 1])
        }
    }

    @Test func forwardedHeadersAreIgnoredOverTCP() async throws {
        let action = shellAction("noop", "true")
        try await InProcessAgent.with(
            actions: [action],
            configure: { $0.rateLimit = .init(burst: 3, refillPerSecond: 0.001, failedAuthCost: 0) }
        ) { agent in
            var statuses: [Int] = []
            for n in 1...5 {
                let response = try await RawHTTP.send(
                    port: agent.port,
                    method: "POST",
                    path: "/v1/actions/noop/run",
                    headers: [
                        ("Authorization", "Bearer \(testToken)"), ("X-Forwarded-For", "203.0.113.\(n)"),
                        ("CF-Connecting-IP", "198.51.100.\(n)"),
                    ]
                )
                statuses.append(response.status)
            }
            #expect(statuses == [200, 200, 200, 429, 429], "rotating the headers does not buy a new bucket")
            let clients = Set(try agent.auditRecords().compactMap { $0["client_ip"] as? String })
            #expect(clients == ["127.0.0.1"])
        }
    }

    @Test func outputIsCappedToItsTail() async throws {
        let action = shellAction(
            "noisy",
            "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done; echo tail-end",
            maxOutputBytes: 100
        )
        try await InProcessAgent.with(actions: [action]) { agent in
            let response = try await RawHTTP.post(port: agent.port, "/v1/actions/noisy/run", token: testToken)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(response.body))
            #expect(result.outcome == "succeeded")
            #expect(result.truncated)
            #expect(result.stdoutTail.utf8.count == 100)
            #expect(result.stdoutTail.hasSuffix("line-1999\ntail-end\n"))
            #expect(result.stdoutBytes > 10_000)
        }
    }

    @Test func failingPreflightStopsTheMainCommand() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let side = directory.file("main-ran")
        let action = shellAction("guarded", "touch \(side)", preflight: "echo config bad >&2; exit 1")
        let passing = shellAction("guarded_ok", "echo main", preflight: "echo checked")
        try await InProcessAgent.with(actions: [action, passing]) { agent in
            let response = try await RawHTTP.post(port: agent.port, "/v1/actions/guarded/run", token: testToken)
            let result = try JSONDecoder().decode(AgentAPI.RunResult.self, from: Data(response.body))
            #expect(result.outcome == "preflight_failed")
            #expect(result.exitCode == 1)
            #expect(result.stderrTail == "config bad\n")
            #expect(!FileManager.default.fileExists(atPath: side))
            let ok = try JSONDecoder().decode(
                AgentAPI.RunResult.self,
                from: Data(
                    try await RawHTTP.post(port: agent.port, "/v1/actions/guarded_ok/run", token: testToken).body
                )
            )
            #expect(ok.outcome == "succeeded")
            #expect(ok.stdoutTail == "main\n")
        }
    }

    @Test func badInputMatrixAnswersJSONErrorsAndRunsNothing() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let side = directory.file("side")
        let action = shellAction("restart_api_core", "echo ran >> \(side)")
        try await InProcessAgent.with(actions: [action]) { agent in
            let auth = [("Authorization", "Bearer \(testToken)")]
            let notFound = [
                "/v1/actions/..%2F/run", "/v1/actions/restart_api_core;rm/run", "/v1/actions/restart_api_core%3Brm/run",
                "/v1/actions/r%C3%A9start/run", "/v1/actions/%00/run", "/v1/actions/RESTART_API_CORE/run",
                "/v1/actions/restart_api_core%20/run", "/v1/actions/../actions/restart_api_core/run",
                "/v1/actions/" + String(repeating: "a", count: 65) + "/run", "/v1/actions/unknown_action/run",
                "/v1/actions/restart_api_core/run/extra", "/v1/actions//run", "/v1/nothing",
            ]
            for path in notFound {
                let response = try await RawHTTP.send(port: agent.port, method: "POST", path: path, headers: auth)
                #expect(response.status == 404, "\(path)")
                #expect(response.errorMessage != nil, "\(path)")
                #expect(response.header("Content-Type") == "application/problem+json", "\(path)")
            }
            let runPath = "/v1/actions/restart_api_core/run"
            let badBodies = [
                "{", "[]", "\"x\"", "null", "42", #"{"reason": 5}"#, #"{"incident": ["a"]}"#, #"{"extra": "x"}"#,
                #"{"reason": "\#(String(repeating: "r", count: 501))"}"#,
                #"{"incident": "\#(String(repeating: "i", count: 65))"}"#,
            ]
            for body in badBodies {
                let response = try await RawHTTP.send(
                    port: agent.port,
                    method: "POST",
                    path: runPath,
                    headers: auth + [("Content-Type", "application/json")],
                    body: Array(body.utf8)
                )
                #expect(response.status == 400, "\(body.prefix(40))")
                #expect(response.errorMessage != nil, "\(body.prefix(40))")
            }
            let big = try await RawHTTP.send(
                port: agent.port,
                method: "POST",
                path: runPath,
                headers: auth,
                body: Array(#"{"reason":""#.utf8) + [UInt8](repeating: 0x61, count: 10 * 1024) + Array(#""}"#.utf8)
            )
            #expect(big.status == 413)
            #expect(big.errorMessage != nil)
            for (method, path) in [
                ("GET", runPath), ("PUT", runPath), ("DELETE", "/v1/actions"), ("POST", "/healthz"),
                ("PATCH", "/v1/audit"),
            ] {
                let response = try await RawHTTP.send(port: agent.port, method: method, path: path, headers: auth)
                #expect(response.status == 405, "\(method) \(path)")
                #expect(response.header("Allow") != nil, "\(method) \(path)")
                #expect(response.errorMessage != nil, "\(method) \(path)")
            }
            for query in [
                "limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1&limit=2", "limit=9999999999999999999999",
            ] {
                let response = try await RawHTTP.get(port: agent.port, "/v1/audit?\(query)", token: testToken)
                #expect(response.status == 400, "\(query)")
            }
            #expect(!FileManager.default.fileExists(atPath: side))
            for record in try agent.auditRecords() where record["outcome"] as? String != "refused" {
                Issue.record("ran: \(record)")
            }
            // Every request that named an action is counted (not the /v1/nothing or /v1/audit ones).
            let counted = try agent.refusalCounts().values.reduce(0, +)
            #expect(counted == notFound.count - 2 + badBodies.count + 1 + 2)
            #expect(try agent.auditRecords().count == 1, "in one summary record")
            // Still healthy.
            let ok = try await RawHTTP.post(port: agent.port, runPath, token: testToken, json: #"{"reason":"fine"}"#)
            #expect(ok.status == 200)
        }
    }

    @Test func catalogListsActionsAndMetricsCountRuns() async throws {
        let action = shellAction("noop", "true", limits: ActionLimits(cooldownS: 60))
        try await InProcessAgent.with(actions: [action]) { agent in
            let catalogResponse = try await RawHTTP.get(port: agent.port, "/v1/actions", token: testToken)
            #expect(catalogResponse.status == 200)
            let catalog = try JSONDecoder().decode(AgentAPI.Catalog.self, from: Data(catalogResponse.body))
            #expect(catalog.actions.map(\.id) == ["noop"])
            #expect(catalog.actions.first?.argv == ["/bin/sh", "-c", "true"])
            #expect(catalog.actions.first?.limits.cooldownS == 60)
            _ = try await RawHTTP.post(port: agent.port, "/v1/actions/noop/run", token: testToken)
            let metrics = try await RawHTTP.get(port: agent.port, "/metrics", token: testToken)
            #expect(metrics.status == 200)
            #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains(#"zumik_agent_action_runs_total{action="noop",outcome="succeeded"} 1"#))
            #expect(
                metrics.text.contains(
                    #"zumik_agent_http_requests_total{route="/v1/actions",method="GET",status="200"} 1"#
                )
            )
        }
    }

    @Test func aFailingAuditLogRunsNothing() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let side = directory.file("side")
        let action = shellAction("append_side", "echo ran >> \(side)")
        // Every write to /dev/full fails with ENOSPC.
        try await InProcessAgent.with(actions: [action], configure: { $0.auditLogPath = "/dev/full" }) { agent in
            for _ in 0..<2 {
                let response = try await RawHTTP.post(port: agent.port, "/v1/actions/append_side/run", token: testToken)
                #expect(response.status == 503)
                #expect(response.errorMessage == "not run: the audit log could not record the intent")
                let body = try JSONDecoder().decode(AgentAPI.ErrorBody.self, from: Data(response.body))
                #expect(body.error.outcome == AgentAPI.ErrorBody.notRun)
            }
            // The intent is written before anything is spawned: nothing ran.
            #expect(!FileManager.default.fileExists(atPath: side))
        }
    }
}

/// Pids whose process group is `pgid` (from /proc).
func processesInGroup(_ pgid: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return entries.compactMap { entry -> Int32? in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields: state, ppid, pgrp, …
        guard fields.count > 2, let group = Int32(fields[2]) else { return nil }
        return group == pgid ? pid : nil
    }
}
