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
}
