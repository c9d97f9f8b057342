import ActionPluginKit
import Testing

@Suite struct OutputHelpersTests {
    @Test(arguments: [
        ("Authorization: Bearer eyJhbGciOi.abc-def_ghi", "Authorization: Bearer [REDACTED]", "eyJhbGciOi"),
        ("curl -H 'authorization: bearer tok_123456789'", "authorization: bearer [REDACTED]'", "tok_123456789"),
        ("OPENAI key sk-abcdefghijklmnop1234", "OPENAI key [REDACTED]", "sk-abcdefghijklmnop1234"),
        ("key=sk-proj-abc_DEF-123456789xyz", "key=[REDACTED]", "sk-proj-abc_DEF-123456789xyz"),
        ("redis://default:pa55word@cache:6379/0", "redis://default:[REDACTED]@cache:6379/0", "pa55word"),
        ("https://user:p%40ss@example.com/x", "https://user:[REDACTED]@example.com/x", "p%40ss"),
        ("?password=hunter2&user=bob", "?password=[REDACTED]&user=bob", "hunter2"),
        ("access_token=abcdef123&x=1", "access_token=[REDACTED]&x=1", "abcdef123"),
        ("{\"api_key\": \"zzzz1234\"}", "{\"api_key\": \"[REDACTED]\"}", "zzzz1234"),
        ("DB_PASSWORD: s3cret!", "DB_PASSWORD: [REDACTED]", "s3cret!"),
        ("github ghp_abcdefghijklmnopqrstuvwxyz0123", "github [REDACTED]", "ghp_abcdefghij"),
        ("aws AKIAABCDEFGHIJKLMNOP ok", "aws [REDACTED] ok", "AKIAABCDEFGHIJKLMNOP"),
        ("Cookie: session=abc123; theme=dark", "Cookie: [REDACTED]", "abc123"),
        ("authorization: Token t0ps3cr3t", "authorization: [REDACTED]", "t0ps3cr3t"),
        ("X-Api-Key: 0123456789abcdef", "X-Api-Key: [REDACTED]", "0123456789abcdef"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nafter",
            "-----BEGIN PRIVATE KEY-----[REDACTED]\nafter", "MIIEow"
        ),
    ])
    func secretsAreRedacted(input: String, expected: String, secret: String) {
        let output = SecretRedactor.redact(input)
        #expect(!output.contains(secret))
        #expect(output.contains(expected), "got \(output)")
    }

    @Test func ordinaryTextIsUntouched() {
        let text = "GET /healthz 200 12ms upstream=api-core:8080 tokens_used=5 https://example.com/path"
        #expect(SecretRedactor.redact(text) == text)
    }

    @Test func tailKeepsLastLinesWithinBudget() {
        let bytes = Array((1...10).map { "line \($0)" }.joined(separator: "\n").utf8) + [10, 10]
        let tail = OutputTail.lines(bytes, maxLines: 3)
        #expect(tail.text == "line 8\nline 9\nline 10")
        #expect(tail.lines == 3)
        #expect(tail.totalLines == 10)
        #expect(tail.truncated)
        let all = OutputTail.lines(bytes, maxLines: 50)
        #expect(all.text.hasPrefix("line 1\n"))
        #expect(!all.truncated)
        let byBytes = OutputTail.lines(bytes, maxLines: 50, maxBytes: 15)
        #expect(byBytes.text == "line 9\nline 10")
        #expect(byBytes.truncated)
    }

    @Test func tailOfOneHugeLineCutsOnACharacterBoundary() {
        let line = String(repeating: "é", count: 100)  // 2 bytes each
        let tail = OutputTail.lines(Array(line.utf8), maxLines: 10, maxBytes: 15)
        #expect(tail.truncated)
        #expect(tail.text == String(repeating: "é", count: 7))
        #expect(OutputTail.lines([], maxLines: 10).text == "")
        #expect(OutputTail.lines([0xFF, 0xFE], maxLines: 10).text == "\u{FFFD}\u{FFFD}")
    }
}

@Suite struct TerminalTextTests {
    @Test func escapeSequencesAndControlsAreRemoved() {
        #expect(TerminalText.clean("\u{1B}[31mERROR\u{1B}[0m boom") == "ERROR boom")
        #expect(TerminalText.clean("a\u{1B}]0;title\u{07}b") == "ab")
        #expect(TerminalText.clean("line1\r\nline2\tx") == "line1\nline2\tx")
        #expect(TerminalText.clean("bell\u{07}nul\u{0}") == "bell\u{FFFD}nul\u{FFFD}")
        #expect(TerminalText.clean("trailing \u{1B}[") == "trailing ")
        #expect(TerminalText.clean("caf\u{E9} ok") == "caf\u{E9} ok")
    }
}
