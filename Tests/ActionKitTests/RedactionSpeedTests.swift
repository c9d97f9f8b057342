import ActionPluginKit
import Foundation
import Testing

/// Finding 1 of issue 12: the redactor was quadratic (an 8 KB `GET /a-a-a-…-token` line took ~32 s,
/// 16 KB 129 s). Each hostile shape below aims at one rule; all must stay linear.
@Suite struct RedactionSpeedTests {
    /// Lines of about `size` bytes built to make a backtracking matcher retry from every position.
    static func hostileLines(size: Int) -> [(String, String)] {
        func repeated(_ unit: String, _ tail: String = "") -> String {
            String(repeating: unit, count: size / unit.utf8.count) + tail
        }
        return [
            ("dashed path ending in token", "GET /" + repeated("a-", "token")),
            ("dashed path ending in password", "GET /" + repeated("a-", "password")),
            ("openai prefix", repeated("sk-")),
            ("jwt prefix", repeated("eyJ-")),
            ("slack prefix", repeated("xoxb-")),
            ("github prefix", repeated("ghp_a ")),
            ("scheme runs", repeated("a.", "://")),
            ("url user parts", repeated("a://b:")),
            ("bearer words", repeated("bearer ")),
            ("header names", repeated("cookie cookie:")),
            ("keys without values", repeated("token ")),
            ("private key begins", "private key-----" + repeated("-----BEGIN A")),
        ]
    }

    @Test(arguments: [8 * 1024, 16 * 1024])
    func hostileLinesRedactInLinearTime(size: Int) {
        for (name, line) in Self.hostileLines(size: size) {
            let start = ContinuousClock.now
            let output = SecretRedactor.redact(line)
            let elapsed = start.duration(to: .now)
            print("redaction: \(name), \(line.utf8.count) bytes: \(elapsed)")
            // The bar is 100 ms; the assertion is a generous bound for a loaded debug build.
            #expect(elapsed < .seconds(1), "\(name): \(elapsed)")
            #expect(!output.isEmpty)
        }
    }

    @Test func secretsInsideHostileLinesAreStillCaught() {
        let padding = String(repeating: "a-", count: 4096)
        let line = "GET /\(padding)token=hunter2x&sk-abcdefghijklmnop1234 Authorization: Bearer abcdefghijkl"
        let output = SecretRedactor.redact(line)
        #expect(!output.contains("hunter2x"))
        #expect(!output.contains("sk-abcdefghijklmnop1234"))
        #expect(!output.contains("abcdefghijkl\n") && !output.hasSuffix("abcdefghijkl"))
        #expect(output.hasPrefix("GET /a-a-"))
    }

    @Test(arguments: [
        ("jwt.ab.cd eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeK", "jwt.ab.cd [REDACTED]"),
        ("slack xoxb-1234567890-abcdef end", "slack [REDACTED] end"),
        ("proxy-authorization: Basic dXNlcjpwYXNz", "proxy-authorization: Basic [REDACTED]"),
        ("Set-Cookie: id=a3fWa; Secure", "Set-Cookie: [REDACTED]"),
        ("x-auth-token:abcdef", "x-auth-token:[REDACTED]"),
        ("passwd = 'letmein'", "passwd = '[REDACTED]'"),
        ("apikey: k123", "apikey: [REDACTED]"),
        ("secrets=abc,other=1", "secrets=[REDACTED],other=1"),
        ("credential: \"c1\"", "credential: \"[REDACTED]\""),
        ("AKIAABCDEFGHIJKLMNOPQ stays", "AKIAABCDEFGHIJKLMNOPQ stays"),
        ("two lines\nsk-abcdefghijk1\nend", "two lines\n[REDACTED]\nend"),
        ("ftp://u:p@h/ and mysql://root:pw@db", "ftp://u:[REDACTED]@h/ and mysql://root:[REDACTED]@db"),
        (
            "-----BEGIN EC PRIVATE KEY-----\nabc\n(no end)", "-----BEGIN PRIVATE KEY-----[REDACTED]"
        ),
    ])
    func moreShapesMatchTheRules(input: String, expected: String) {
        #expect(SecretRedactor.redact(input) == expected)
    }
}
