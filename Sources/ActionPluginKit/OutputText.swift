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
        // Whole values of credential headers, unless a bearer/basic rule above already kept the scheme.
        try! Regex(
            #"(?i)(\b(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key|x-auth-token)\s*:[ \t]*)(?![ \t])(?!(?:bearer|basic)\s+\[REDACTED\])[^\r\n]+"#
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
        if containsTrigger(Substring(text), ["private key-----"]) {
            result = result.replacing(privateKeyBlock, with: "-----BEGIN PRIVATE KEY-----" + marker)
        }
        // The rules are regular expressions, which are slow; most log lines hold none of the words
        // a secret needs, so only lines that do are matched.
        var lines = result.split(separator: "\n", omittingEmptySubsequences: false)
        var changed = false
        for index in lines.indices where containsTrigger(lines[index], triggers) {
            var line = String(lines[index])
            for rule in rules {
                line = line.replacing(rule) { match in
                    let kept = match.output.count > 1 ? (match.output[1].substring.map(String.init) ?? "") : ""
                    return kept + marker
                }
            }
            lines[index] = Substring(line)
            changed = true
        }
        return changed ? lines.joined(separator: "\n") : result
    }

    /// Lowercase words at least one of which every rule's match contains.
    private static let triggers: [[UInt8]] = [
        "bearer", "basic", "://", "pass", "pwd", "token", "key", "secret", "credential", "sk-", "gh", "xox", "akia",
        "eyj", "authorization", "cookie",
    ].map { Array($0.utf8) }

    /// Whether `text`, ASCII-lowercased, contains any of `words`.
    private static func containsTrigger(_ text: Substring, _ words: [[UInt8]]) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return false }
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        for word in words where word.count <= lower.count {
            var start = 0
            while start + word.count <= lower.count {
                if lower[start] == word[0] && lower[start..<start + word.count].elementsEqual(word) { return true }
                start += 1
            }
        }
        return false
    }

    private static func containsTrigger(_ text: Substring, _ words: [String]) -> Bool {
        containsTrigger(text, words.map { Array($0.utf8) })
    }

    nonisolated(unsafe) private static let privateKeyBlock = try! Regex(
        #"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)"#
    )
}

/// Terminal output made safe to show: ANSI escape sequences removed, other control characters
/// (except newline and tab) replaced by U+FFFD.
public enum TerminalText {
    public static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var pending = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            if scalar == "\u{1B}" {
                // ESC [ params final  (CSI), or ESC ] ... BEL/ESC \ (OSC), or ESC + one character.
                if pending == "[" {
                    pending = scalars.next()
                    while let next = pending, !(0x40...0x7E).contains(next.value) { pending = scalars.next() }
                    pending = scalars.next()
                } else if pending == "]" {
                    pending = scalars.next()
                    while let next = pending, next != "\u{07}", next != "\u{1B}" { pending = scalars.next() }
                    if pending == "\u{1B}" { pending = scalars.next() }  // the backslash of ESC \
                    pending = scalars.next()
                } else {
                    pending = scalars.next()
                }
                continue
            }
            if scalar == "\n" || scalar == "\t" {
                out.append(scalar)
            } else if scalar == "\r" {
                continue
            } else if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out.append("\u{FFFD}")
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
