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
            let message = String(line.prefix(500))
            if line.contains("test is successful") || line.contains("syntax is ok") {
                sawSuccess = true
            } else if ["[emerg]", "[alert]", "[crit]", "[error]"].contains(where: { line.hasPrefix($0) }) {
                errors.append(message)
            } else if line.hasPrefix("[warn]") {
                warnings.append(message)
            } else if line.contains("test failed") {
                errors.append(message)
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
