import ActionPluginKit

/// Reads the output of the nginx bundle's commands.
enum NginxReaders {
    static func read(_ output: CommandOutput) -> (any Encodable)? {
        switch output.actionID {
        case "nginx_config_test", "reload_nginx": configTest(output)
        case "nginx_error_log": errorLog(output)
        default: nil
        }
    }

    struct ConfigTest: Encodable, Hashable {
        var ok: Bool
        var errors: [String]
        var warnings: [String]
    }

    /// `nginx -t` (and `nginx -s reload`) write to stderr, e.g.
    /// `nginx: [emerg] unknown directive "foo" in /etc/nginx/conf.d/x.conf:3` then
    /// `nginx: configuration file /etc/nginx/nginx.conf test failed`.
    static func configTest(_ output: CommandOutput) -> ConfigTest {
        let text = SecretRedactor.redact(output.stderrText + "\n" + output.stdoutText)
        var errors: [String] = []
        var warnings: [String] = []
        var sawSuccess = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            while line.first == " " { line = line.dropFirst() }
            if line.hasPrefix("nginx: ") { line = line.dropFirst("nginx: ".count) }
            if line.contains("test is successful") || line.contains("syntax is ok") {
                sawSuccess = true
            } else if let (level, message) = leveled(line) {
                if level == "warn" {
                    warnings.append(message)
                } else if ["emerg", "alert", "crit", "error"].contains(level) {
                    errors.append(message)
                }
            } else if line.contains("test failed") {
                errors.append(String(line.prefix(500)))
            }
            if errors.count >= 50 { break }
        }
        if !output.succeeded && errors.isEmpty {
            errors.append(
                output.signal != 0
                    ? "killed by signal \(output.signal)" : "exited with status \(output.exitStatus)"
            )
        }
        let ok =
            output.succeeded && errors.isEmpty && (output.actionID == "reload_nginx" || sawSuccess)
        return ConfigTest(ok: ok, errors: errors, warnings: Array(warnings.prefix(50)))
    }

    /// `[level] message` from a line in either of nginx's forms — `nginx: [emerg] …` or
    /// `2026/11/28 23:59:00 [emerg] 7#7: …` — without the timestamp and the `pid#tid: ` prefix.
    static func leveled(_ line: Substring) -> (level: String, message: String)? {
        guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { return nil }
        let level = String(line[line.index(after: open)..<close])
        guard ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"].contains(level) else { return nil }
        // Only a timestamp may come before the level.
        let before = line[..<open]
        guard before.allSatisfy({ $0.isNumber || $0 == "/" || $0 == ":" || $0 == " " }) else { return nil }
        var rest = line[line.index(after: close)...].drop { $0 == " " }
        if let hash = rest.firstIndex(of: "#"), let colon = rest[hash...].firstIndex(of: ":"),
            rest[..<hash].allSatisfy(\.isNumber), rest[rest.index(after: hash)..<colon].allSatisfy(\.isNumber)
        {
            rest = rest[rest.index(after: colon)...].drop { $0 == " " }
        }
        return (level, String("[\(level)] \(rest)".prefix(500)))
    }

    struct ErrorLog: Encodable {
        var ok: Bool
        /// Lines per level (`emerg`, `error`, `warn`, …) in the tail.
        var levels: [String: Int]
        var tail: OutputTail.Tail
    }

    static func errorLog(_ output: CommandOutput) -> ErrorLog {
        var tail = OutputTail.lines(output.stdout, maxLines: 200, maxBytes: 16 * 1024)
        tail.text = SecretRedactor.redact(TerminalText.clean(tail.text))
        var levels: [String: Int] = [:]
        for line in tail.text.split(whereSeparator: \.isNewline) {
            // `2026/11/28 23:59:00 [error] 7#7: *1 connect() failed …`
            guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { continue }
            let level = line[line.index(after: open)..<close]
            if ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"].contains(level) {
                levels[String(level), default: 0] += 1
            }
        }
        return ErrorLog(ok: output.succeeded, levels: levels, tail: tail)
    }
}
