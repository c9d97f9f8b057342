import ActionKit
import ActionPluginKit

/// A run's output cut down for the model: how much there was, the plugin's short reading, the lines that
/// matter (errors and warnings, deduplicated with counts), the first and last lines, and, for a re-read of
/// the same diagnostic, what changed since. Lines are redacted (``SecretRedactor``) and neutralized
/// (``UntrustedOutput/neutralize(_:)``) before anything else looks at them; the rendered text is framed
/// by ``UntrustedOutput`` and never exceeds its byte budget.
struct OutputDigest: Sendable, Equatable {
    struct Group: Sendable, Equatable {
        /// The first line of the group, as printed.
        var line: String
        var count: Int
    }

    /// Non-empty output lines, stdout first, then stderr (prefixed `stderr: `), cleaned.
    var lines: [String]
    /// Bytes the command printed (both streams) and whether the agent kept only their tails.
    var bytes: Int
    var cut: Bool
    /// The plugin's reading in one line (its top-level scalars: `ok`, `summary`, `error`, …), if any.
    var reading: String?
    /// Lines that look like errors or warnings, grouped by their text with digits masked, first seen first.
    var notable: [Group]
    /// The plugin's reading has a `summary` (the reader parsed the output, e.g. compose's JSON lines): the
    /// raw lines are then left out of what is shown.
    var summarized: Bool

    /// Longest line shown, in Unicode scalars.
    static let lineLimit = 160
    /// Lowercased markers of a line that matters.
    static let markers = [
        "error", "fatal", "panic", "fail", "warn", "out of memory", "oom", "killed", "denied", "refused",
        "exception", "timeout", "timed out", "unhealthy", "exited", "cannot", "unable", "no space", "crash",
    ]

    init(_ result: AgentAPI.RunResult) {
        func clean(_ text: String) -> [String] {
            UntrustedOutput.neutralize(SecretRedactor.redact(text)).split(whereSeparator: \.isNewline)
                .map { String($0).trimmingTrailingSpace() }.filter { !$0.isEmpty }
        }
        lines = clean(result.stdoutTail) + clean(result.stderrTail).map { "stderr: " + $0 }
        bytes = result.stdoutBytes + result.stderrBytes
        cut = result.truncated
        reading = result.interpretation.flatMap(Self.reading)
        if case .object(let object) = result.interpretation, case .string = object["summary"] {
            summarized = true
        } else {
            summarized = false
        }
        notable = Self.groups(of: lines.filter(Self.matters))
    }

    static func matters(_ line: String) -> Bool {
        let lower = line.lowercased()
        return markers.contains { lower.contains($0) }
    }

    /// Groups lines that differ only in their digits (timestamps, counters, ids), in order of first sight.
    static func groups(of lines: [String]) -> [Group] {
        var order: [String] = []
        var groups: [String: Group] = [:]
        for line in lines {
            let key = masked(line)
            if groups[key] == nil {
                order.append(key)
                groups[key] = Group(line: line, count: 0)
            }
            groups[key]?.count += 1
        }
        return order.compactMap { groups[$0] }
    }

    static func masked(_ line: String) -> String {
        var key = ""
        var inDigits = false
        for scalar in line.unicodeScalars {
            let digit = scalar.properties.numericType != nil
            if digit, !inDigits { key += "#" }
            if !digit { key.unicodeScalars.append(scalar) }
            inDigits = digit
        }
        return key
    }

    /// The top-level scalars of a plugin's reading, `key=value` joined; nested values are left out (the
    /// readers put their one-line `summary` at the top).
    static func reading(_ value: JSONValue) -> String? {
        guard case .object(let object) = value else { return nil }
        let parts = object.keys.sorted().compactMap { key -> String? in
            switch object[key] {
            case .string(let text): "\(key)=\(text)"
            case .bool(let flag): "\(key)=\(flag)"
            case .number(let number):
                number == number.rounded() && abs(number) < 1e15 ? "\(key)=\(Int(number))" : "\(key)=\(number)"
            default: nil
            }
        }
        guard !parts.isEmpty else { return nil }
        return UntrustedOutput.neutralize(SecretRedactor.redact(parts.joined(separator: ", ")))
    }

    // MARK: Rendering

    /// The digest as the body of an untrusted frame, at most `budget` bytes of UTF-8. Pieces are kept by
    /// priority (counts, reading, notable lines, what changed, tail, head) and shown in reading order.
    func render(since previous: OutputDigest?, budget: Int, tailLines: Int = 6, headLines: Int = 2) -> String {
        var sections: [(order: Int, index: Int, text: String)] = []
        var used = 0
        func add(_ order: Int, _ text: String) -> Bool {
            let size = text.utf8.count + 1
            guard used + size <= budget else { return false }
            used += size
            sections.append((order, sections.count, text))
            return true
        }
        _ = add(0, counts)
        if let reading { _ = add(1, "reading: " + clip(reading, 2 * Self.lineLimit)) }
        guard let previous else {
            guard !summarized else { return sections.map(\.text).joined(separator: "\n") }
            if !notable.isEmpty {
                addNotable(notable, title: "errors and warnings (\(notable.count) kinds)", order: 2, into: add)
            }
            if lines.count <= tailLines + headLines {
                addLines(lines, title: "lines", order: 5, into: add)
            } else {
                addLines(Array(lines.suffix(tailLines)), title: "last \(tailLines) lines", order: 5, into: add)
                addLines(Array(lines.prefix(headLines)), title: "first \(headLines) lines", order: 4, into: add)
            }
            return sections.sorted { ($0.order, $0.index) < ($1.order, $1.index) }.map(\.text).joined(separator: "\n")
        }
        let added = addChanges(since: previous, into: add)
        if !summarized { addLines(Array(added.suffix(tailLines)), title: "last new lines", order: 5, into: add) }
        return sections.sorted { ($0.order, $0.index) < ($1.order, $1.index) }.map(\.text).joined(separator: "\n")
    }

    private var counts: String {
        var text = "\(lines.count) lines, \(bytes) bytes"
        if cut { text += " (the agent kept only the end)" }
        return text
    }

    private func addNotable(
        _ groups: [Group],
        title: String,
        order: Int,
        into add: (Int, String) -> Bool
    ) {
        addLines(groups.map { "\($0.count)× " + $0.line }, title: title, order: order, into: add)
    }

    /// The title with the first line (never a title alone), then as many further lines as fit.
    private func addLines(_ shown: [String], title: String, order: Int, into add: (Int, String) -> Bool) {
        guard let first = shown.first, add(order, title + ":\n" + clip(first, Self.lineLimit)) else { return }
        for line in shown.dropFirst() {
            guard add(order, clip(line, Self.lineLimit)) else { return }
        }
    }

    /// Returns the new lines.
    private func addChanges(since previous: OutputDigest, into add: (Int, String) -> Bool) -> [String] {
        let before = Set(previous.lines)
        let now = Set(lines)
        let added = lines.filter { !before.contains($0) }
        let gone = previous.lines.filter { !now.contains($0) }
        var text = "since the last read: "
        if added.isEmpty, gone.isEmpty, reading == previous.reading {
            text += "unchanged"
        } else {
            text += "\(added.count) new lines, \(gone.count) gone"
            if reading != previous.reading, let old = previous.reading {
                text += "; reading was: " + clip(old, Self.lineLimit)
            }
        }
        guard add(2, text), !summarized else { return added }
        let oldKeys = Set(previous.notable.map { Self.masked($0.line) })
        let newKeys = Set(notable.map { Self.masked($0.line) })
        let fresh = notable.filter { !oldKeys.contains(Self.masked($0.line)) }
        let stale = previous.notable.filter { !newKeys.contains(Self.masked($0.line)) }
        if !fresh.isEmpty { addNotable(fresh, title: "new errors and warnings", order: 3, into: add) }
        if !stale.isEmpty { addNotable(stale, title: "errors and warnings no longer seen", order: 3, into: add) }
        return added
    }
}

extension String {
    fileprivate func trimmingTrailingSpace() -> String {
        var text = self
        while let last = text.unicodeScalars.last, last == " " || last == "\t" || last == "\r" {
            text.unicodeScalars.removeLast()
        }
        return text
    }
}
