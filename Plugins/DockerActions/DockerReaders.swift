import ActionPluginKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the output of the Docker bundle's commands.
enum DockerReaders {
    static func read(_ output: CommandOutput) -> (any Encodable)? {
        switch output.actionID {
        case "docker_service_states": serviceStates(output)
        case "api_core_logs", "gateway_logs": LogsReading(output, maxLines: 200)
        case "docker_disk_usage": LogsReading(output, maxLines: 60)
        case "restart_api_core", "restart_gateway", "restart_all", "recreate_api_core", "prune_docker":
            CommandReading(output)
        default: nil
        }
    }

    /// One service from `docker compose ps --format json`.
    struct ServiceState: Codable, Hashable {
        var name: String
        var service: String?
        var state: String
        var health: String?
        var exitCode: Int?

        enum CodingKeys: String, CodingKey {
            case name, service, state, health
            case exitCode = "exit_code"
        }
    }

    struct ServiceStates: Encodable {
        var ok: Bool
        var services: [ServiceState]
        /// e.g. "api-core: running (healthy); gateway: exited (1)".
        var summary: String
        /// Lines that were not a compose service object.
        var unreadLines: Int
        var error: String?

        enum CodingKeys: String, CodingKey {
            case ok, services, summary
            case unreadLines = "unread_lines"
            case error
        }
    }

    /// The fields we read of compose's per-service JSON; everything else is ignored.
    private struct ComposeEntry: Decodable {
        var name: String?
        var service: String?
        var state: String?
        var health: String?
        var exitCode: Int?

        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case service = "Service"
            case state = "State"
            case health = "Health"
            case exitCode = "ExitCode"
        }

        /// Lenient per field: a field of an unexpected type is treated as absent (compose versions differ).
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try? container.decodeIfPresent(String.self, forKey: .name)
            service = try? container.decodeIfPresent(String.self, forKey: .service)
            state = try? container.decodeIfPresent(String.self, forKey: .state)
            health = try? container.decodeIfPresent(String.self, forKey: .health)
            exitCode =
                (try? container.decodeIfPresent(Int.self, forKey: .exitCode))
                ?? (try? container.decodeIfPresent(String.self, forKey: .exitCode)).flatMap { $0.flatMap { Int($0) } }
        }
    }

    /// Compose v2 prints one JSON object per line (newer) or one JSON array (older); accept both,
    /// and count anything else as unread instead of failing.
    static func serviceStates(_ output: CommandOutput) -> ServiceStates {
        let text = output.stdoutText.trimmed
        var entries: [ComposeEntry] = []
        var unread = 0
        let decoder = JSONDecoder()
        if text.hasPrefix("[") {
            if let array = try? decoder.decode([ComposeEntry].self, from: Data(text.utf8)) {
                entries = array
            } else {
                unread += 1
            }
        } else {
            for line in text.split(whereSeparator: \.isNewline) {
                let trimmed = String(line).trimmed
                guard !trimmed.isEmpty else { continue }
                if let entry = try? decoder.decode(ComposeEntry.self, from: Data(trimmed.utf8)) {
                    entries.append(entry)
                } else {
                    unread += 1
                }
            }
        }
        var services: [ServiceState] = []
        for entry in entries {
            guard let name = entry.name ?? entry.service else {
                unread += 1
                continue
            }
            let health = entry.health.flatMap { $0.isEmpty ? nil : String($0.prefix(32)) }
            services.append(
                ServiceState(
                    name: String(name.prefix(128)),
                    service: entry.service.map { String($0.prefix(128)) },
                    state: String((entry.state ?? "unknown").prefix(32)),
                    health: health,
                    exitCode: entry.exitCode
                )
            )
        }
        let summary = services.map { service in
            var part = "\(service.service ?? service.name): \(service.state)"
            if let health = service.health { part += " (\(health))" }
            if service.state == "exited", let code = service.exitCode { part += " (exit \(code))" }
            return part
        }
        var error: String?
        if !output.succeeded {
            let tail = OutputTail.lines(output.stderr, maxLines: 20, maxBytes: 2048)
            error = SecretRedactor.redact(tail.text)
        } else if services.isEmpty && unread > 0 {
            error = "could not read the output of docker compose ps as JSON"
        }
        return ServiceStates(
            ok: output.succeeded && error == nil,
            services: services,
            summary: summary.isEmpty ? "no services" : summary.joined(separator: "; "),
            unreadLines: unread,
            error: error
        )
    }

    /// A bounded, redacted tail of each stream.
    struct LogsReading: Encodable {
        var ok: Bool
        var stdout: OutputTail.Tail
        var stderr: OutputTail.Tail

        init(_ output: CommandOutput, maxLines: Int) {
            ok = output.succeeded
            stdout = OutputTail.lines(output.stdout, maxLines: maxLines, maxBytes: 16 * 1024)
            stdout.text = SecretRedactor.redact(TerminalText.clean(stdout.text))
            stderr = OutputTail.lines(output.stderr, maxLines: maxLines, maxBytes: 16 * 1024)
            stderr.text = SecretRedactor.redact(TerminalText.clean(stderr.text))
        }
    }

    /// Whether a remediation command worked, and if not, the end of what it said.
    struct CommandReading: Encodable {
        var ok: Bool
        var error: String?

        init(_ output: CommandOutput) {
            ok = output.succeeded
            if !ok {
                let tail = OutputTail.lines(output.stderr.isEmpty ? output.stdout : output.stderr, maxLines: 20)
                let text = SecretRedactor.redact(tail.text)
                error = text.isEmpty ? "exited with status \(output.exitStatus)" : text
            }
        }
    }
}

extension String {
    /// Without leading and trailing whitespace.
    fileprivate var trimmed: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
