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
