import ActionKit
import Foundation
import Logging
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor
@testable import Remediation

/// What the model is sent over a whole 3-round remediation, through the real engine, the real ops-agent
/// (test bundle whose diagnostic prints 200 log lines) and the OpenAI stand-in: compact tool results, the
/// earlier rounds condensed (no earlier tool output or reasons re-sent), every request valid under the
/// strict schema, and the facts the round-3 choice depends on still there. Token counts (tiktoken is Python)
/// are checked when `tiktoken` and `bpe-openai` are installed (scripts/setup.sh installs them); otherwise
/// that part is skipped with a printed reason.
@Suite(
    .serialized,
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
)
struct RemediationPromptBudgetTests {
    /// 200 log lines: start-up noise, one out-of-memory kill early on (neither in the head nor in the tail),
    /// warnings repeated with different numbers, a secret, then reconnect noise to the end.
    static let logScript = """
        i=0
        while [ $i -lt 200 ]; do
          if [ $i -eq 40 ]; then
            echo "2026-11-30T03:00:40Z level=error msg=\\"worker 7 killed: out of memory (rss 2051 MB > limit 2048 MB)\\""
          elif [ $i -eq 41 ]; then
            echo "2026-11-30T03:00:41Z level=info msg=\\"db url postgres://api:hunter2secret@db:5432/zumik\\""
          elif [ $((i % 25)) -eq 7 ]; then
            echo "2026-11-30T03:01:$((i % 60))Z level=warn msg=\\"slow query took $((i * 13)) ms\\""
          else
            echo "2026-11-30T03:02:$((i % 60))Z level=info msg=\\"connecting to postgres\\" attempt=$i"
          fi
          i=$((i + 1))
        done
        """

    /// The service's state; each read counts up, so a re-read shows what changed.
    static func statesScript(counter: String) -> String {
        """
        n=$(cat \(counter) 2>/dev/null || echo 0); n=$((n + 1)); echo $n > \(counter)
        echo "app: exited (137) restarts=$n"
        echo "db: running (healthy)"
        echo "proxy: running"
        """
    }

    static let restartFails = "echo 'Error response from daemon: app is restarting, wait until it stops' >&2; exit 1"

    /// Always down: the property never comes back, so every round is played.
    struct DownProber: RemediationProber {
        func reprobe(_ incident: RemediationIncident) async -> ProbeVerdict {
            ProbeVerdict(healthy: false, summary: "down (HTTP 502)")
        }
    }

    static let incident = RemediationIncident(
        id: 1,
        property: "api.zumik.ai/healthz",
        url: "https://api.zumik.ai/healthz",
        service: "test",
        host: "vps-1",
        symptom: "HTTP 502 from nginx"
    )

    /// Plays `script` through the engine against the real agent; returns the requests the stand-in received.
    func play(_ script: [FakeOpenAI.Reply]) async throws -> (RemediationOutcome, [[String: Any]], [[UInt8]]) {
        let work = try ZumikTestSupport.TempDir()
        defer { work.remove() }
        var manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                ("app_logs", Self.logScript, 10, "read"),
                ("app_states", Self.statesScript(counter: work.file("reads")), 10, "read"),
                ("restart_app", Self.restartFails, 10, "app"),
                ("recreate_app", "echo app recreated", 10, "app"),
                ("restart_all", "echo all restarted", 10, "app"),
            ],
            diagnostics: ["app_logs", "app_states"]
        )
        // Room for all 200 lines, as the shipped log actions have.
        manifest = manifest.replacingOccurrences(
            of: "\"max_output_bytes\" : 4096",
            with: "\"max_output_bytes\" : 262144"
        )
        let store = try await TestJournal()
        defer { store.remove() }
        let fake = FakeOpenAI(script: script)
        let box = OutcomeBox()
        try await BinaryAgent.with(bundles: [(name: "p", manifest: manifest, plugin: "NginxActions")]) { agent in
            try await fake.serve { modelURL in
                let engine = RemediationEngine(
                    policy: RemediationPolicy(maxRounds: 3, settle: .seconds(20)),
                    agents: [
                        "vps-1": AgentClient(
                            configuration: .init(
                                baseURL: "http://127.0.0.1:\(agent.port)",
                                token: BinaryAgent.token,
                                requestTimeout: .seconds(10)
                            ),
                            transport: remediationTestTransport
                        )
                    ],
                    model: ChatCompletionsClient(
                        configuration: .init(baseURL: modelURL, apiKey: "sk-test-key"),
                        transport: remediationTestTransport
                    ),
                    journal: store.journal,
                    prober: DownProber(),
                    clock: ImmediateClock(),
                    logger: Logger(label: "test.remediation.prompt")
                )
                box.outcome = await engine.respond(to: Self.incident)
            }
        }
        #expect(await fake.schemaFailures() == [])
        let outcome = try #require(box.outcome)
        return (outcome, fake.received.compactMap(\.json), fake.received.map(\.body))
    }

    final class OutcomeBox: @unchecked Sendable {
        // Written once inside `serve`, read after it returned.
        var outcome: RemediationOutcome?
    }

    static let script: [FakeOpenAI.Reply] = [
        .call("app_logs", reason: "R1 read the logs first"),
        .call("restart_app", reason: "R1 plain restart of the app"),
        .call("app_states", reason: "R2 see the service states"),
        .call("recreate_app", reason: "R2 recreate the container"),
        .call("app_states", reason: "R3 states once more"),
        .call("restart_all", reason: "R3 restart everything"),
    ]

    static func messages(_ request: [String: Any]) -> [[String: Any]] {
        request["messages"] as? [[String: Any]] ?? []
    }

    static func text(_ request: [String: Any]) -> String {
        messages(request).compactMap { $0["content"] as? String }.joined(separator: "\n")
    }

    @Test("3 rounds with a 200-line diagnostic: compact tool results, condensed history, the round-1 facts kept")
    func threeRoundsStayCompact() async throws {
        let (outcome, requests, bodies) = try await play(Self.script)
        guard case .paged = outcome else {
            Issue.record("expected the exhausted budget to page, got \(outcome)")
            return
        }
        #expect(requests.count == 6)
        guard requests.count == 6 else { return }

        // Every tool result is bounded: the 200 lines (~14 KB) become a digest under the budget.
        for request in requests {
            for message in Self.messages(request) where message["role"] as? String == "tool" {
                let content = message["content"] as? String ?? ""
                #expect(content.utf8.count <= RemediationPolicy().toolOutputBudget + 300, "\(content)")
            }
        }
        let logs = try #require(Self.messages(requests[1]).last?["content"] as? String)
        #expect(logs.hasPrefix("app_logs: succeeded, exit 0"))
        #expect(logs.contains("200 lines"))
        #expect(logs.contains("1× 2026-11-30T03:00:40Z level=error msg=\"worker 7 killed: out of memory"))
        #expect(logs.contains("8× ") && logs.contains("slow query took"))  // 8 warnings, one line
        #expect(!logs.contains("hunter2secret"))
        #expect(logs.contains("attempt=199"))  // the tail
        #expect(logs.components(separatedBy: UntrustedOutput.openTag).count == 2)

        // A failed remediation: one line, plus its error.
        let restart = try #require(Self.messages(requests[2]).last?["content"] as? String)
        #expect(restart.hasPrefix("restart_app: failed, exit 1"))
        #expect(restart.contains("Re-probe: down (HTTP 502). 2 of 3 rounds left."))
        #expect(restart.contains("app is restarting"))

        // Round 3: no earlier tool output in full, only the latest call (and its reason) re-sent.
        for (index, request) in requests.enumerated().dropFirst(4) {
            let body = String(decoding: bodies[index], as: UTF8.self)
            let all = Self.text(request)
            let calls = Self.messages(request).compactMap { $0["tool_calls"] as? [[String: Any]] }.flatMap { $0 }
            #expect(calls.count == 1)
            #expect(!all.contains("attempt="))
            #expect(!body.contains("R1 "))
            #expect(!body.contains("hunter2secret"))
            // The history (and the latest result) name every action taken with its result and re-probe ...
            #expect(all.contains("- app_logs (read): succeeded, exit 0"))
            #expect(all.contains("- restart_app (fix): failed, exit 1"))
            #expect(all.contains("- app_states (read): succeeded, exit 0"))
            #expect(all.contains("recreate_app (fix): succeeded, exit 0") || all.contains("recreate_app: succeeded"))
            #expect(all.lowercased().components(separatedBy: "re-probe: down (http 502)").count == 3)
            // ... and what round 1 learned, the fact the right round-3 choice depends on.
            #expect(all.contains("out of memory (rss 2051 MB > limit 2048 MB)"))
        }
        #expect(!String(decoding: bodies[5], as: UTF8.self).contains("R2 "))
        // The re-read of app_states says what changed since the last read.
        let reread = try #require(Self.messages(requests[5]).last?["content"] as? String)
        #expect(reread.contains("since the last read: 1 new lines, 1 gone"))
        #expect(reread.contains("app: exited (137) restarts=2"))

        try countTokens(bodies)
    }

    /// Prompt tokens per round (o200k_base, counted by Benchmarks/harness/tokens.py): at most 3,000.
    func countTokens(_ bodies: [[UInt8]]) throws {
        let root = Specs.packageRoot.path
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import tiktoken, bpe_openai"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("skipped the token count: python3 cannot import tiktoken and bpe_openai (scripts/setup.sh)")
            return
        }
        let work = try ZumikTestSupport.TempDir()
        defer { work.remove() }
        var files: [String] = []
        for (index, body) in bodies.enumerated() {
            let file = work.file("request-\(index).json")
            try Data(body).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }
        let count = Process()
        count.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        count.arguments = ["python3", root + "/Benchmarks/harness/tokens.py", "count"] + files
        count.environment = ProcessInfo.processInfo.environment.merging(
            ["TIKTOKEN_CACHE_DIR": work.file("tiktoken")]
        ) { $1 }
        let output = Pipe()
        count.standardOutput = output
        try count.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        count.waitUntilExit()
        #expect(count.terminationStatus == 0)
        let perRequest = try #require(try JSONSerialization.jsonObject(with: data) as? [[Int]])
        // Two requests per round (a diagnostic, then a remediation); a round costs both.
        let rounds = stride(from: 0, to: perRequest.count, by: 2).map { start in
            perRequest[start..<min(start + 2, perRequest.count)].reduce(0) { $0 + $1.reduce(0, +) }
        }
        print("prompt tokens per round (o200k_base): \(rounds.map(String.init).joined(separator: " / "))")
        #expect(rounds.count == 3)
        #expect(rounds.allSatisfy { $0 <= 3000 }, "\(rounds)")
    }
}
