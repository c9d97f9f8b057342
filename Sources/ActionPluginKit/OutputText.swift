/// Bounded tails of command output.
public enum OutputTail {
    /// The last `maxLines` lines of `bytes`, at most `maxBytes` bytes, cut at a line (or, for one
    /// huge line, a UTF-8 character) boundary. Invalid UTF-8 becomes U+FFFD.
    public static func lines(_ bytes: [UInt8], maxLines: Int = 200, maxBytes: Int = 16 * 1024) -> Tail {
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        var start = end
        var lines = 0
        var truncated = false
        while start > 0 {
            // Find the start of the line ending before `start`.
            var lineStart = start - 1
            while lineStart > 0, bytes[lineStart - 1] != UInt8(ascii: "\n") { lineStart -= 1 }
            if lines == maxLines || end - lineStart > maxBytes {
                truncated = true
                if lines == 0 {
                    // One line larger than the budget: keep its end, on a character boundary.
                    start = end - maxBytes
                    while start < end, (bytes[start] & 0xC0) == 0x80 { start += 1 }
                }
                break
            }
            lines += 1
            start = lineStart
        }
        let totalLines = bytes[..<end].reduce(into: 0) { $0 += $1 == UInt8(ascii: "\n") ? 1 : 0 } + (end > 0 ? 1 : 0)
        return Tail(
            text: String(decoding: bytes[start..<end], as: UTF8.self),
            lines: max(lines, start < end ? 1 : 0),
            totalLines: totalLines,
            truncated: truncated
        )
    }

    public struct Tail: Sendable, Hashable, Codable {
        public var text: String
        /// Lines kept.
        public var lines: Int
        /// Lines in the whole output.
        public var totalLines: Int
        /// Whether anything before `text` was dropped.
        public var truncated: Bool

        enum CodingKeys: String, CodingKey {
            case text, lines
            case totalLines = "total_lines"
            case truncated
        }
    }
}

/// Removes secrets from text before it leaves the host: bearer tokens, API keys, `password=`/`token=`
/// style parameters, passwords in URLs, private key blocks.
public enum SecretRedactor {
    public static let marker = "[REDACTED]"

    // Each rule: a pattern whose first group (if any) is kept, followed by the secret to replace.
    nonisolated(unsafe) private static let rules: [Regex<AnyRegexOutput>] = [
        // Authorization: Bearer <token> / Basic <b64> / token <x>
        try! Regex(#"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"#),
        // scheme://user:password@host
        try! Regex(#"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)"#),
        // password=..., token: ..., "api_key": "...", secret=...
        try! Regex(
            #"(?i)(\b[a-z0-9_-]*(?:password|passwd|pwd|token|api[_-]?key|secret|credential)s?["']?\s*[=:]\s*["']?)[^\s"'&,;]+"#
        ),
        // OpenAI-style keys (sk-..., sk-proj-...), GitHub tokens, Slack tokens, AWS access key ids.
        try! Regex(#"()\bsk-[A-Za-z0-9_-]{8,}"#),
        try! Regex(#"()\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}"#),
        try! Regex(#"()\bxox[abposr]-[A-Za-z0-9-]{10,}"#),
        try! Regex(#"()\bAKIA[0-9A-Z]{16}\b"#),
        // JSON web tokens.
        try! Regex(#"()\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"#),
    ]

    /// `text` with every secret replaced by ``marker``.
    public static func redact(_ text: String) -> String {
        var result = text
        for rule in rules {
            result = result.replacing(rule) { match in
                let kept = match.output.count > 1 ? (match.output[1].substring.map(String.init) ?? "") : ""
                return kept + marker
            }
        }
        return result.replacing(privateKeyBlock, with: "-----BEGIN PRIVATE KEY-----" + marker)
    }

    nonisolated(unsafe) private static let privateKeyBlock = try! Regex(
        #"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)"#
    )
}
