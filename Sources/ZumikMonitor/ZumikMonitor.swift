import ArgumentParser
import Foundation
import Logging
import Monitor

/// `zumik-monitor`: watch properties, debounce, alert to Discord.
@main
struct ZumikMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zumik-monitor",
        abstract: "Probe web properties, debounce failures and alert Discord on every state change.",
        version: "0.1.0",
        subcommands: [Run.self, Check.self, Validate.self]
    )
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case logfmt, json
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Log line format: logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func bootstrap() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, json: format == .json)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "zumik-monitor")
    }
}

func loadConfig(_ path: String) throws -> MonitorConfig {
    let config: MonitorConfig
    do {
        config = try ConfigLoader.load(path: path)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(2)
    }
    do {
        _ = try RemediationSettings(json: config.remediation)
    } catch {
        FileHandle.standardError.write(Data("\(path): \(error.description)\n".utf8))
        throw ExitCode(2)
    }
    return config
}

extension ZumikMonitorCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the monitor until SIGTERM/SIGINT.")

        @Option(help: "Path to the YAML configuration.")
        var config: String

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = logging.bootstrap()
            let config = try loadConfig(config)
            let runtime: MonitorRuntime
            do {
                let responder = RemediationResponder(
                    settings: try RemediationSettings(json: config.remediation),
                    openAIKey: config.secrets.openAIKey,
                    logger: logger
                )
                runtime = try MonitorRuntime(config: config, logger: logger, responder: responder)
            } catch {
                FileHandle.standardError.write(Data("zumik-monitor: \(error)\n".utf8))
                throw ExitCode(2)
            }
            logger.info(
                "starting",
                metadata: [
                    "properties": "\(config.properties.count)", "store": "\(config.storePath)",
                    "control.listen": "\(config.controlHost):\(config.controlPort)",
                    "discord": "\(config.secrets.discordWebhookURL == nil ? "console" : "webhook")",
                ]
            )
            try await runtime.run { port in
                logger.info("control API listening", metadata: ["control.port": "\(port)"])
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Probe every property once and print a table; exit 0 only if all are healthy."
        )

        @Option(help: "Path to the YAML configuration.")
        var config: String

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            let config = try loadConfig(config)
            let engine = CurlEngine(maxInFlight: config.maxInFlight)
            let results = await Prober(transport: engine, certWarningDays: config.certWarningDays)
                .probeAll(config.properties)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(results), as: UTF8.self))
            } else {
                print(Self.table(results))
            }
            if !results.allSatisfy({ $0.health == .healthy }) { throw ExitCode(1) }
        }

        static func table(_ results: [ProbeResult]) -> String {
            let header = ["PROPERTY", "STATE", "STATUS", "DNS", "CONNECT", "TLS", "TTFB", "TOTAL", "DETAIL"]
            let rows = results.map { r -> [String] in
                func ms(_ v: Double) -> String { "\(Int(v.rounded()))ms" }
                return [
                    r.property, r.health.rawValue, r.status.map(String.init) ?? "-", ms(r.timings.dnsMs),
                    ms(r.timings.connectMs), ms(r.timings.tlsMs), ms(r.timings.firstByteMs), ms(r.timings.totalMs),
                    r.reasons.joined(separator: "; "),
                ]
            }
            let all = [header] + rows
            let widths = (0..<header.count - 1).map { i in all.map { $0[i].count }.max() ?? 0 }
            return all.map { row in
                (0..<row.count).map { i in
                    i < widths.count ? row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0) : row[i]
                }.joined(separator: "  ")
            }.joined(separator: "\n")
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file (and the secrets in the environment) without running."
        )

        @Argument(help: "Path to the YAML configuration.")
        var file: String

        func run() async throws {
            let config = try loadConfig(file)
            do {
                try ControlAPI.checkListenAddress(host: config.controlHost, token: config.secrets.controlToken)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(2)
            }
            let remediable = config.properties.filter { !$0.alertOnly && $0.host != nil }.count
            print(
                "\(file): ok (\(config.properties.count) properties, \(remediable) remediable, "
                    + "alerts to \(config.secrets.discordWebhookURL == nil ? "console" : "Discord"))"
            )
        }
    }
}

/// One line per record, logfmt (`ts=… level=… msg="…" key=value`) or JSON.
struct LineLogHandler: LogHandler {
    let label: String
    let json: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Date().formatted(.iso8601)), ("level", event.level.rawValue), ("msg", "\(event.message)"),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: {
            $0.key < $1.key
        }) {
            fields.append((key, "\(value)"))
        }
        let line: String
        if json {
            var object: [String: String] = [:]
            for (k, v) in fields { object[k] = v }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = fields.map { key, value in
                let needsQuotes = value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
                let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                    of: "\"",
                    with: "\\\""
                )
                .replacingOccurrences(of: "\n", with: "\\n")
                return "\(key)=\(needsQuotes ? "\"\(escaped)\"" : escaped)"
            }.joined(separator: " ")
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
