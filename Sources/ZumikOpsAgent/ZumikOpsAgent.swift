import AgentHost
import ArgumentParser
import Logging
import Metrics
import Prometheus
import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// `zumik-ops-agent`: serves the signed action bundles' catalog and runs their actions.
@main
struct ZumikOpsAgent: AsyncParsableCommand {
    /// The plugin reader helper (``ReaderHelper``) before anything else; otherwise the agent.
    static func main() async {
        ReaderHelper.runIfRequested(CommandLine.arguments)
        // Every run has a thread of its own; one arena per thread would keep each one's freed heap.
        AgentServer.capMallocArenas()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "zumik-ops-agent",
        abstract: "The Zumik ops-agent: an audited, token-guarded allowlist of actions from signed bundles.",
        discussion: """
            The bearer token comes from OPS_AGENT_TOKEN or OPS_AGENT_TOKEN_FILE (never a flag).
            Options override the environment: OPS_AGENT_LISTEN, \(environmentKeys), ZUMIK_MCP_ALLOW, ZUMIK_MCP_DISABLE.
            SIGHUP reloads the bundles; SIGTERM/SIGINT shut down gracefully.
            """,
        version: AgentHost.version
    )

    /// From the one table of settings (``AgentConfiguration/settingNames``).
    private static var environmentKeys: String {
        AgentConfiguration.settingNames.map(\.key).joined(separator: ", ")
    }

    @Option(help: "Listen host (an IP literal). Default from OPS_AGENT_LISTEN, else 127.0.0.1.")
    var host: String?
    @Option(help: "Listen port. Default from OPS_AGENT_LISTEN, else 8787.")
    var port: Int?
    @Option(name: .customLong("bundles-dir"), help: "Bundle directory (ZUMIK_BUNDLES_DIR).")
    var bundlesDirectory: String?
    @Option(name: .customLong("trusted-keys-dir"), help: "Trusted public keys (ZUMIK_TRUSTED_KEYS_DIR).")
    var trustedKeysDirectory: String?
    @Option(name: .customLong("state-dir"), help: "State directory: accepted serials, audit log (ZUMIK_STATE_DIR).")
    var stateDirectory: String?
    @Option(name: .customLong("audit-log"), help: "Audit log path (ZUMIK_AUDIT_LOG), default STATE_DIR/audit.jsonl.")
    var auditLogPath: String?
    @Option(help: "Rotate the audit log past this many bytes (ZUMIK_AUDIT_MAX_BYTES), default 16 MiB.")
    var auditMaxBytes: Int?
    @Option(help: "Rotated audit files kept (ZUMIK_AUDIT_RETAIN), default 8.")
    var auditRetain: Int?
    @Option(help: "Per-client burst (tokens).")
    var rateLimitBurst: Double?
    @Option(help: "Per-client refill rate (tokens per second).")
    var rateLimitPerSecond: Double?
    @Option(help: "Extra tokens a failed authentication costs.")
    var rateLimitFailedAuthCost: Double?
    @Option(help: "Most client addresses tracked by the rate limiter.")
    var rateLimitMaxClients: Int?
    @Option(
        name: .customLong("unix-socket"),
        help:
            "Also listen on this Unix socket (mode 0660), for nginx: the only channel whose X-Forwarded-For is believed (OPS_AGENT_UNIX_SOCKET)."
    )
    var unixSocketPath: String?
    @Option(help: "Seconds a connection may take to send its first request head (ZUMIK_HEADER_TIMEOUT), default 10.")
    var headerTimeout: Double?
    @Option(help: "Seconds a connection may stay idle (ZUMIK_IDLE_TIMEOUT), default 60.")
    var idleTimeout: Double?
    @Option(help: "Connections kept at once (ZUMIK_MAX_CONNECTIONS), default 1024.")
    var maxConnections: Int?
    @Option(help: "Connections kept at once per client IP (ZUMIK_MAX_CONNECTIONS_PER_CLIENT), default 64.")
    var maxConnectionsPerClient: Int?
    @Option(help: "NIO event-loop threads serving HTTP (ZUMIK_EVENT_LOOP_THREADS), default 1.")
    var eventLoopThreads: Int?
    @Option(help: "DOCKER_HOST given to actions (ZUMIK_DOCKER_HOST); never inherited.")
    var dockerHost: String?
    @Option(help: "Log format: logfmt or json (ZUMIK_LOG_FORMAT).")
    var logFormat: String?
    @Option(help: "Log level (ZUMIK_LOG_LEVEL), default info.")
    var logLevel: String?
    @Option(name: .customLong("mcp-allow"), help: "A remediation MCP clients may call (repeatable; ZUMIK_MCP_ALLOW).")
    var mcpAllow: [String] = []
    @Flag(name: .customLong("mcp-disable"), help: "Serve no MCP endpoint (ZUMIK_MCP_DISABLE=1).")
    var mcpDisable = false

    func run() async throws {
        let configuration: AgentConfiguration
        let auditLog: AuditLog
        do {
            var options = AgentConfiguration.Options(
                host: host,
                port: port,
                bundlesDirectory: bundlesDirectory,
                trustedKeysDirectory: trustedKeysDirectory,
                stateDirectory: stateDirectory,
                auditLogPath: auditLogPath,
                auditMaxBytes: auditMaxBytes,
                auditRetain: auditRetain,
                rateLimitBurst: rateLimitBurst,
                rateLimitPerSecond: rateLimitPerSecond,
                rateLimitFailedAuthCost: rateLimitFailedAuthCost,
                rateLimitMaxClients: rateLimitMaxClients,
                unixSocketPath: unixSocketPath,
                headerTimeout: headerTimeout,
                idleTimeout: idleTimeout,
                maxConnections: maxConnections,
                maxConnectionsPerClient: maxConnectionsPerClient,
                dockerHost: dockerHost,
                logFormat: logFormat,
                logLevel: logLevel
            )
            options.eventLoopThreads = eventLoopThreads
            options.mcp = .init(allow: mcpAllow, disable: mcpDisable)
            configuration = try AgentConfiguration.resolve(
                options: options,
                environment: ProcessInfo.processInfo.environment
            )
            try StartupCheck.checkTrustedDirectory(configuration.bundlesDirectory, key: "ZUMIK_BUNDLES_DIR")
            try StartupCheck.checkTrustedDirectory(configuration.trustedKeysDirectory, key: "ZUMIK_TRUSTED_KEYS_DIR")
            try StartupCheck.prepareStateDirectory(configuration.stateDirectory)
            do {
                auditLog = try AuditLog(path: configuration.auditLogPath, rotation: configuration.auditRotation)
            } catch {
                throw StartupError("ZUMIK_AUDIT_LOG: \(error.description)")
            }
        } catch {
            StandardError.write("zumik-ops-agent: refusing to start: \(error)\n")
            throw ExitCode(2)
        }

        let format = configuration.logFormat
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LineLogHandler.bootstrap(format: format == .json ? .json : .logfmt, level: level)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "zumik-ops-agent")

        // Runs a killed agent left open: survivors killed, an "outcome unknown" completion each.
        AuditReconciler.reconcile(auditLog: auditLog, logger: logger)
        // Plugin readers run in a helper process: this binary, re-executed in reader mode.
        ReaderIsolation.enable()
        let provider = makeActionProvider(configuration: configuration, logger: logger)
        let server = AgentServer(
            configuration: configuration,
            provider: provider,
            auditLog: auditLog,
            metricsRegistry: registry,
            logger: logger
        )
        server.logCatalog()
        do {
            try await server.run()
            auditLog.flushRefusals()
            logger.notice("stopped")
        } catch {
            logger.critical("server stopped", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
