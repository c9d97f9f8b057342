/// What a redaction rule found at one position of a line.
enum RedactionStep {
    /// Bytes up to `keepEnd` stay, `keepEnd..<end` is the secret.
    case match(keepEnd: Int, end: Int)
    /// No match starts anywhere before `to` (the rule already scanned that far).
    case skip(to: Int)
}

/// Byte-level helpers shared by the redaction rules. Every scan moves forward and stops at the
/// first byte outside its class, so a pass over a line is linear in its length.
enum RedactionScan {
    typealias Rule = @Sendable (_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep?

    static let marker = Array(SecretRedactor.marker.utf8)

    /// Replaces every secret `rule` finds, left to right, without overlaps. `floor` is the first
    /// byte not yet copied: a rule never looks back past it.
    static func replaceAll(_ bytes: inout [UInt8], _ rule: Rule) -> Bool {
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        while index < bytes.count {
            switch rule(bytes, index, copied) {
            case nil:
                index += 1
            case .skip(let to)?:
                index = max(to, index + 1)
            case .match(let keepEnd, let end)?:
                if output.isEmpty { output.reserveCapacity(bytes.count) }
                output.append(contentsOf: bytes[copied..<keepEnd])
                output.append(contentsOf: marker)
                copied = end
                index = max(end, index + 1)
            }
        }
        guard copied > 0 else { return false }
        output.append(contentsOf: bytes[copied...])
        bytes = output
        return true
    }

    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    static func isWord(_ byte: UInt8) -> Bool {
        isAlnum(byte) || byte == UInt8(ascii: "_")
    }

    static func isAlnum(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// A word boundary before `index` for a match starting with a word character.
    static func boundaryBefore(_ bytes: [UInt8], _ index: Int) -> Bool {
        index == 0 || !isWord(bytes[index - 1])
    }

    /// Whether `word` (lowercase ASCII) starts at `index`, ignoring ASCII case.
    static func hasWord(_ bytes: [UInt8], at index: Int, _ word: [UInt8]) -> Bool {
        guard index + word.count <= bytes.count else { return false }
        for offset in 0..<word.count where lower(bytes[index + offset]) != word[offset] { return false }
        return true
    }

    /// Whether `word` starts at `index`, exactly.
    static func hasExact(_ bytes: [UInt8], at index: Int, _ word: [UInt8]) -> Bool {
        guard index + word.count <= bytes.count else { return false }
        for offset in 0..<word.count where bytes[index + offset] != word[offset] { return false }
        return true
    }

    /// The end of the run of bytes from `index` that satisfy `accept`.
    static func run(_ bytes: [UInt8], from index: Int, _ accept: (UInt8) -> Bool) -> Int {
        var end = index
        while end < bytes.count, accept(bytes[end]) { end += 1 }
        return end
    }

    /// Whether `bytes` contains `word` (lowercase ASCII), ignoring ASCII case.
    static func contains(_ bytes: [UInt8], _ word: String) -> Bool {
        let word = Array(word.utf8)
        guard let first = word.first, word.count <= bytes.count else { return false }
        for index in 0...(bytes.count - word.count) where lower(bytes[index]) == first {
            if hasWord(bytes, at: index, word) { return true }
        }
        return false
    }

    /// The first of `words` (lowercase) that starts at `index`, as its end.
    static func firstWord(_ bytes: [UInt8], at index: Int, _ words: [[UInt8]]) -> Int? {
        for word in words where hasWord(bytes, at: index, word) { return index + word.count }
        return nil
    }

    static func words(_ list: [String]) -> [[UInt8]] { list.map { Array($0.utf8) } }
}

/// `(?i)\b(bearer|basic)\s+` then a token of at least 6 of `[A-Za-z0-9._~+/=-]`.
enum BearerRule {
    private static let schemes = RedactionScan.words(["bearer", "basic"])

    static func match(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard RedactionScan.lower(bytes[index]) == UInt8(ascii: "b"), RedactionScan.boundaryBefore(bytes, index),
            let wordEnd = RedactionScan.firstWord(bytes, at: index, schemes)
        else { return nil }
        let tokenStart = RedactionScan.run(bytes, from: wordEnd, RedactionScan.isSpace)
        guard tokenStart > wordEnd else { return nil }
        let tokenEnd = RedactionScan.run(bytes, from: tokenStart, isTokenByte)
        return tokenEnd - tokenStart >= 6 ? .match(keepEnd: tokenStart, end: tokenEnd) : nil
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        RedactionScan.isAlnum(byte) || "._~+/=-".utf8.contains(byte)
    }
}

/// `[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:` then the password `[^@/\s]+` before an `@`.
enum URLPasswordRule {
    static func match(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: ":"), index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "/"),
            bytes[index + 2] == UInt8(ascii: "/")
        else { return nil }
        // The scheme: a run of [A-Za-z0-9+.-] just before "://" that holds a letter.
        var cursor = index
        var hasLetter = false
        while cursor > floor, isSchemeByte(bytes[cursor - 1]) {
            cursor -= 1
            if RedactionScan.isLetter(bytes[cursor]) {
                hasLetter = true
                break
            }
        }
        guard hasLetter else { return nil }
        let userEnd = RedactionScan.run(bytes, from: index + 3) {
            $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") && !RedactionScan.isSpace($0)
        }
        guard userEnd < bytes.count, bytes[userEnd] == UInt8(ascii: ":") else { return .skip(to: userEnd) }
        let passwordStart = userEnd + 1
        let passwordEnd = RedactionScan.run(bytes, from: passwordStart) {
            $0 != UInt8(ascii: "@") && $0 != UInt8(ascii: "/") && !RedactionScan.isSpace($0)
        }
        guard passwordEnd > passwordStart, passwordEnd < bytes.count, bytes[passwordEnd] == UInt8(ascii: "@") else {
            return .skip(to: passwordStart)
        }
        return .match(keepEnd: passwordStart, end: passwordEnd)
    }

    static func isSchemeByte(_ byte: UInt8) -> Bool {
        RedactionScan.isAlnum(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
            || byte == UInt8(ascii: "-")
    }
}

/// `(?i)(password|passwd|pwd|token|api[_-]?key|secret|credential)s?["']?\s*[=:]\s*["']?` then the
/// value `[^\s"'&,;]+`.
enum KeyValueRule {
    private static let keys = RedactionScan.words([
        "password", "passwd", "pwd", "token", "apikey", "api_key", "api-key", "secret", "credential",
    ])
    private static let firstBytes = Set(keys.map { $0[0] })

    static func match(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard firstBytes.contains(RedactionScan.lower(bytes[index])),
            var cursor = RedactionScan.firstWord(bytes, at: index, keys)
        else { return nil }
        func take(_ accept: (UInt8) -> Bool) {
            if cursor < bytes.count, accept(bytes[cursor]) { cursor += 1 }
        }
        take { RedactionScan.lower($0) == UInt8(ascii: "s") }
        take(isQuote)
        cursor = RedactionScan.run(bytes, from: cursor, RedactionScan.isSpace)
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "=") || bytes[cursor] == UInt8(ascii: ":") else {
            return nil
        }
        cursor = RedactionScan.run(bytes, from: cursor + 1, RedactionScan.isSpace)
        take(isQuote)
        let valueEnd = RedactionScan.run(bytes, from: cursor) {
            !RedactionScan.isSpace($0) && !isQuote($0) && !"&,;".utf8.contains($0)
        }
        return valueEnd > cursor ? .match(keepEnd: cursor, end: valueEnd) : nil
    }

    static func isQuote(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") }
}

/// `(?i)\b(proxy-)?(authorization|cookie|set-cookie|x-api-key|x-auth-token)\s*:[ \t]*` then the rest
/// of the line, unless it is a bearer/basic scheme the bearer rule already redacted.
enum CredentialHeaderRule {
    private static let headers = RedactionScan.words([
        "proxy-authorization", "authorization", "set-cookie", "cookie", "x-api-key", "x-auth-token",
    ])
    private static let alreadyRedacted = RedactionScan.words(["bearer", "basic"])

    static func match(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        let first = RedactionScan.lower(bytes[index])
        guard
            first == UInt8(ascii: "a") || first == UInt8(ascii: "c") || first == UInt8(ascii: "p")
                || first == UInt8(ascii: "s") || first == UInt8(ascii: "x"),
            RedactionScan.boundaryBefore(bytes, index), let nameEnd = RedactionScan.firstWord(bytes, at: index, headers)
        else { return nil }
        var cursor = RedactionScan.run(bytes, from: nameEnd, RedactionScan.isSpace)
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") else { return nil }
        cursor = RedactionScan.run(bytes, from: cursor + 1) { $0 == 0x20 || $0 == 0x09 }
        let end = RedactionScan.run(bytes, from: cursor) { $0 != 0x0A && $0 != 0x0D }
        guard end > cursor else { return nil }
        if let schemeEnd = RedactionScan.firstWord(bytes, at: cursor, alreadyRedacted) {
            let markerStart = RedactionScan.run(bytes, from: schemeEnd, RedactionScan.isSpace)
            if markerStart > schemeEnd, RedactionScan.hasExact(bytes, at: markerStart, RedactionScan.marker) {
                return .skip(to: markerStart)
            }
        }
        return .match(keepEnd: cursor, end: end)
    }
}

/// Secrets recognisable by their shape alone; each is replaced whole.
enum TokenShapeRule {
    private static let gitHubPrefixes = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"].map { Array($0.utf8) }

    /// `\bsk-[A-Za-z0-9_-]{8,}`
    static func openAI(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: "s"), RedactionScan.hasExact(bytes, at: index, Array("sk-".utf8)),
            RedactionScan.boundaryBefore(bytes, index)
        else { return nil }
        return shaped(bytes, prefixEnd: index + 3, start: index, minimum: 8) {
            RedactionScan.isWord($0) || $0 == UInt8(ascii: "-")
        }
    }

    /// `\b(ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}`
    static func gitHub(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: "g"), RedactionScan.boundaryBefore(bytes, index),
            let prefix = gitHubPrefixes.first(where: { RedactionScan.hasExact(bytes, at: index, $0) })
        else { return nil }
        return shaped(bytes, prefixEnd: index + prefix.count, start: index, minimum: 16, RedactionScan.isWord)
    }

    /// `\bxox[abposr]-[A-Za-z0-9-]{10,}`
    static func slack(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: "x"), index + 5 <= bytes.count,
            RedactionScan.hasExact(bytes, at: index, Array("xox".utf8)), "abposr".utf8.contains(bytes[index + 3]),
            bytes[index + 4] == UInt8(ascii: "-"), RedactionScan.boundaryBefore(bytes, index)
        else { return nil }
        return shaped(bytes, prefixEnd: index + 5, start: index, minimum: 10) {
            RedactionScan.isAlnum($0) || $0 == UInt8(ascii: "-")
        }
    }

    /// `\bAKIA[0-9A-Z]{16}\b`
    static func awsKeyID(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: "A"), index + 20 <= bytes.count,
            RedactionScan.hasExact(bytes, at: index, Array("AKIA".utf8)), RedactionScan.boundaryBefore(bytes, index),
            bytes[(index + 4)..<(index + 20)].allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }),
            index + 20 == bytes.count || !RedactionScan.isWord(bytes[index + 20])
        else { return nil }
        return .match(keepEnd: index, end: index + 20)
    }

    /// `\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`
    static func jwt(_ bytes: [UInt8], _ index: Int, _ floor: Int) -> RedactionStep? {
        guard bytes[index] == UInt8(ascii: "e"), RedactionScan.hasExact(bytes, at: index, Array("eyJ".utf8)),
            RedactionScan.boundaryBefore(bytes, index)
        else { return nil }
        let isPart: (UInt8) -> Bool = { RedactionScan.isWord($0) || $0 == UInt8(ascii: "-") }
        let firstEnd = RedactionScan.run(bytes, from: index + 3, isPart)
        // Any start inside the first part reaches the same end: none of them can match either.
        guard firstEnd - (index + 3) >= 8 else { return .skip(to: firstEnd) }
        var cursor = firstEnd
        for _ in 0..<2 {
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ".") else { return .skip(to: firstEnd) }
            let end = RedactionScan.run(bytes, from: cursor + 1, isPart)
            guard end - (cursor + 1) >= 8 else { return .skip(to: firstEnd) }
            cursor = end
        }
        return .match(keepEnd: index, end: cursor)
    }

    /// The prefix and a run of at least `minimum` bytes after it; on a miss, no start inside the
    /// run can match either (it ends at the same byte).
    private static func shaped(
        _ bytes: [UInt8],
        prefixEnd: Int,
        start: Int,
        minimum: Int,
        _ accept: (UInt8) -> Bool
    ) -> RedactionStep {
        let end = RedactionScan.run(bytes, from: prefixEnd, accept)
        return end - prefixEnd >= minimum ? .match(keepEnd: start, end: end) : .skip(to: end)
    }
}

/// `-----BEGIN [A-Z ]*PRIVATE KEY-----` through the matching END line (or the end of the text),
/// replaced by one marker.
enum PrivateKeyRule {
    private static let begin = Array("-----BEGIN ".utf8)
    private static let end = Array("-----END ".utf8)
    private static let label = Array("PRIVATE KEY".utf8)
    private static let dashes = Array("-----".utf8)
    private static let replacement = Array("-----BEGIN PRIVATE KEY-----".utf8) + RedactionScan.marker

    static func apply(_ bytes: inout [UInt8]) -> Bool {
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "-"), RedactionScan.hasExact(bytes, at: index, begin) else {
                index += 1
                continue
            }
            guard let bodyStart = labelEnd(bytes, after: index + begin.count) else {
                index += begin.count
                continue
            }
            var blockEnd = bytes.count
            var search = bodyStart
            while search < bytes.count {
                if bytes[search] == UInt8(ascii: "-"), RedactionScan.hasExact(bytes, at: search, end) {
                    if let found = labelEnd(bytes, after: search + end.count) {
                        blockEnd = found
                        break
                    }
                    search += end.count
                } else {
                    search += 1
                }
            }
            output.append(contentsOf: bytes[copied..<index])
            output.append(contentsOf: replacement)
            copied = blockEnd
            index = blockEnd
        }
        guard copied > 0 else { return false }
        output.append(contentsOf: bytes[copied...])
        bytes = output
        return true
    }

    /// After `[A-Z ]*PRIVATE KEY-----` starting at `start`: the index past the dashes.
    private static func labelEnd(_ bytes: [UInt8], after start: Int) -> Int? {
        let runEnd = RedactionScan.run(bytes, from: start) { (0x41...0x5A).contains($0) || $0 == 0x20 }
        guard runEnd - start >= label.count, RedactionScan.hasExact(bytes, at: runEnd - label.count, label),
            RedactionScan.hasExact(bytes, at: runEnd, dashes)
        else { return nil }
        return runEnd + dashes.count
    }
}
