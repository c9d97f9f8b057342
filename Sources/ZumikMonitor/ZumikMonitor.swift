import ActionKit
import ArgumentParser
import Foundation
import Logging
import Monitor
import Probing
import Remediation
import ServerSupport

/// `zumik-monitor`: watch properties, debounce, alert to Discord.
@main
struct ZumikMonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zumik-monitor",
        abstract: "Probe web properties, debounce failures and alert Discord on every state change.",
        version: MonitorRuntime.version,
        subcommands: [Run.self, Check.self, Validate.self, Tools.self, Outbox.self, Migrate.self]
    )
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case logfmt, json
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Log line format: logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "Log level: trace, debug, info, notice, warning (or warn), error, critical.")
    var logLevel: LogLevel = .init(.info)

    func bootstrap() -> Logger {
        LineLogHandler.bootstrap(format: logFormat == .json ? .json : .logfmt, level: logLevel.level)
        return Logger(label: "zumik-monitor")
    }
}

/// A `--log-level` value: swift-log's level names, and `warn` for `warning`; anything else is refused.
struct LogLevel: ExpressibleByArgument {
    let level: Logger.Level

    init(_ level: Logger.Level) { self.level = level }

    init?(argument: String) {
        let name = argument.lowercased()
        guard let level = name == "warn" ? .warning : Logger.Level(rawValue: name) else { return nil }
        self.level = level
    }

    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) + ["warn"] }
    var defaultValueDescription: String { level.rawValue }
}

func loadConfig(_ path: String) throws -> MonitorConfig {
    let config: MonitorConfig
    do {
        config = try ConfigLoader.load(path: path)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(2)
    }
    return config
}

extension ZumikMonitorCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the monitor until SIGTERM/SIGINT; SIGHUP reloads the configuration."
        )

        @Option(help: "Path to the YAML configuration.")
        var config: String

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            let logger = logging.bootstrap()
            let config = try loadConfig(config)
            let runtime: MonitorRuntime
            do {
                let responder = RemediationResponder(
                    settings: config.remediation,
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
                    "properties": .stringConvertible(config.properties.count), "store": "\(config.storeSummary)",
                    "location": "\(config.store.location)",
                    "control.listen": "\(config.controlHost):\(config.controlPort)",
                    "discord": "\(config.secrets.discordWebhookURL == nil ? "console" : "webhook")",
                ]
            )
            let hangup = runtime.monitor.reloadOnHangup(configPath: self.config)
            defer { hangup.cancel() }
            try await runtime.run { port in
                logger.info("control API listening", metadata: ["control.port": .stringConvertible(port)])
            }
            logger.notice("stopped")
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
                .probeAll(config.properties.map(\.target))
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
                    (r.reasons + Self.certificateNote(r)).joined(separator: "; "),
                ]
            }
            return textTable(header: header, rows: rows)
        }

        /// An expiring certificate, its own state apart from the health (issue 15).
        static func certificateNote(_ result: ProbeResult) -> [String] {
            guard let certificate = result.certificate, certificate.state == .expiring else { return [] }
            return ["certificate expiring: \(certificate.daysLeft) days left (warning at \(certificate.warningDays))"]
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
            let problems = config.runtimeProblems(file: (file as NSString).lastPathComponent)
            if !problems.isEmpty {
                FileHandle.standardError.write(Data((ConfigErrors(problems).description + "\n").utf8))
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

extension ZumikMonitorCommand {
    struct Tools: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the OpenAI tools the model would be offered for a property.",
            discussion: """
                Asks the property's ops-agent (OPS_AGENT_URL / OPS_AGENT_TOKEN, or the host's own variables) for \
                its live catalog, keeps the actions whose targets include the property's service, and prints the \
                strict function tools sent to the model, escalate_to_human included. Exit 1 when the agent \
                cannot be reached or refuses; 2 for a bad configuration or property.
                """
        )

        @Option(help: "Path to the YAML configuration.")
        var config: String

        @Option(help: "The property (by name) whose service selects the actions.")
        var property: String

        func run() async throws {
            let config = try loadConfig(config)
            guard let property = config.property(named: property) else {
                throw failure("unknown property \"\(property)\"", code: 2)
            }
            guard !property.alertOnly, let hostName = property.host, let service = property.service else {
                throw failure(
                    "property \"\(property.name)\" is alert-only or has no host and service: nothing is offered",
                    code: 2
                )
            }
            guard let host = config.hosts[hostName], let url = host.url, let token = host.token else {
                throw failure(
                    "host \"\(hostName)\": set \(config.hosts[hostName]?.urlEnv ?? "OPS_AGENT_URL") and its token",
                    code: 2
                )
            }
            let engine = CurlEngine(maxInFlight: 4)
            defer { engine.shutdown() }
            let client = AgentClient(
                configuration: .init(baseURL: url, token: token.value),
                transport: engine
            )
            let catalog: AgentAPI.Catalog
            do {
                catalog = try await client.catalog()
            } catch {
                throw failure("ops-agent \(hostName): \(error)", code: 1)
            }
            let tools = RemediationTools.tools(for: RemediationTools.offered(catalog, service: service))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(tools), as: UTF8.self))
        }

        private func failure(_ message: String, code: Int32) -> ExitCode {
            FileHandle.standardError.write(Data("zumik-monitor tools: \(message)\n".utf8))
            return ExitCode(code)
        }
    }
}
