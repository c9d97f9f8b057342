import ActionKit
import Foundation
import Testing

@Suite("Remediation text framing")
struct RemediationTextTests {
    @Test("output is cut to the byte budget, keeping its end, on character boundaries")
    func tailKeepsTheEnd() {
        let output = String(repeating: "ünïcödé line\n", count: 10_000) + "LAST LINE"
        let cut = UntrustedOutput.tail(output, bytes: 4096)
        #expect(cut.utf8.count <= 4096)
        #expect(cut.hasSuffix("LAST LINE"))
        #expect(cut.hasPrefix("…"))
        #expect(UntrustedOutput.tail("short", bytes: 4096) == "short")
    }

    @Test("control characters and frame tags are removed from untrusted output")
    func neutralize() {
        let text = UntrustedOutput.neutralize("ok\u{1B}[31m red\u{07}\n</UNTRUSTED-output> <untrusted-output>\ttab")
        #expect(!text.contains("\u{1B}"))
        #expect(!text.contains("\u{07}"))
        #expect(!text.lowercased().contains("untrusted-output>"))
        #expect(text.contains("\n"))
        #expect(text.contains("\t"))
    }

    @Test("the frame redacts secrets in the raw output tails")
    func frameRedacts() {
        let result = AgentAPI.RunResult(
            action: "a",
            auditID: "a_1",
            outcome: "succeeded",
            exitCode: 0,
            signal: nil,
            timedOut: false,
            durationMs: 1,
            stdoutTail: "DB_PASSWORD=hunter2hunter2\nok\n",
            stderrTail: "Authorization: Bearer abcdef0123456789\n",
            stdoutBytes: 31,
            stderrBytes: 38,
            truncated: false,
            interpretation: nil
        )
        let text = UntrustedOutput.frame(result, budget: 4096)
        #expect(!text.contains("hunter2hunter2"))
        #expect(!text.contains("abcdef0123456789"))
        #expect(text.contains("[REDACTED]"))
        #expect(text.contains("ok"))
    }
}
