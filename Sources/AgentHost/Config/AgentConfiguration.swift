import CZumikSys
import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Everything the ops-agent is configured with. Built by ``AgentConfiguration/resolve(options:environment:)``
/// from command-line options and the environment (options win); docs/agent.md has the table.
///
/// Each plain setting (option, environment key, default, bounds) is declared once in `AgentSettings.swift`.
/// Here: the listen address (`--host` + `--port` / `OPS_AGENT_LISTEN`, `127.0.0.1:8787`; the host an IP
/// literal, the port 0…65535), the token (`OPS_AGENT_TOKEN` or `OPS_AGENT_TOKEN_FILE`, trailing newline
/// trimmed, the file not readable by others, at least 16 characters, never logged), the refused
/// `ZUMIK_TRUSTED_PROXIES`, and MCP (``MCPConfiguration``).
public struct AgentConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The bearer token. Secret: never log it.
    public var token: String
    /// `OPS_AGENT_METRICS_TOKEN` / `_FILE`: a read-only credential good for `GET /metrics` and nothing else.
    public var metricsToken: String?
    public var bundlesDirectory: String
    public var trustedKeysDirectory: String
    public var stateDirectory: String
    public var auditLogPath: String
    /// When the audit log rotates and how many rotated files it keeps.
    public var auditRotation: AuditRotation = AuditRotation()
    public var rateLimit: ClientRateLimiter.Configuration
    /// Where nginx connects; the only channel whose `X-Forwarded-For` is believed.
    public var unixSocketPath: String?
    public var connectionLimits: ConnectionLimits
    /// Passed to actions as `DOCKER_HOST` when set.
    public var dockerHost: String?
    public var logFormat: LogFormat
    public var logLevel: String
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes: Int
    /// What MCP clients may call on `POST /mcp`.
    public var mcp = MCPConfiguration()
    /// NIO event-loop threads serving HTTP (every listener shares them). Runs and plugin readers
    /// have threads of their own, so one loop is plenty; more only for a very busy catalog.
    public var eventLoopThreads = 1

    public enum LogFormat: String, Sendable, CaseIterable {
        case logfmt, json
    }

    public init(
        host: String = "127.0.0.1",
        port: Int = 8787,
        token: String,
        bundlesDirectory: String = "/etc/zumik/bundles",
        trustedKeysDirectory: String = "/etc/zumik/trusted-keys",
        stateDirectory: String = "/var/lib/zumik-ops-agent",
        auditLogPath: String? = nil,
        rateLimit: ClientRateLimiter.Configuration = .init(),
        unixSocketPath: String? = nil,
        connectionLimits: ConnectionLimits = .init(),
        dockerHost: String? = nil,
        logFormat: LogFormat = .logfmt,
        logLevel: String = "info",
        maxBodyBytes: Int = 4096
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.bundlesDirectory = bundlesDirectory
        self.trustedKeysDirectory = trustedKeysDirectory
        self.stateDirectory = stateDirectory
        self.auditLogPath = auditLogPath ?? PathText.join(stateDirectory, "audit.jsonl")
        self.rateLimit = rateLimit
        self.unixSocketPath = unixSocketPath
        self.connectionLimits = connectionLimits
        self.dockerHost = dockerHost
        self.logFormat = logFormat
        self.logLevel = logLevel
        self.maxBodyBytes = maxBodyBytes
    }

    /// Command-line values; nil means "not given" (the environment or the default applies).
    public struct Options: Sendable {
        public var host: String?
        public var port: Int?
        public var bundlesDirectory: String?
        public var trustedKeysDirectory: String?
        public var stateDirectory: String?
        public var auditLogPath: String?
        public var auditMaxBytes: Int?
        public var auditRetain: Int?
        public var rateLimitBurst: Double?
        public var rateLimitPerSecond: Double?
        public var rateLimitFailedAuthCost: Double?
        public var rateLimitMaxClients: Int?
        public var unixSocketPath: String?
        public var headerTimeout: Double?
        public var idleTimeout: Double?
        public var maxConnections: Int?
        public var maxConnectionsPerClient: Int?
        public var dockerHost: String?
        public var logFormat: String?
        public var logLevel: String?
        public var eventLoopThreads: Int?
        public var mcp = MCPConfiguration.Options()

        public init(
            host: String? = nil,
            port: Int? = nil,
            bundlesDirectory: String? = nil,
            trustedKeysDirectory: String? = nil,
            stateDirectory: String? = nil,
            auditLogPath: String? = nil,
            auditMaxBytes: Int? = nil,
            auditRetain: Int? = nil,
            rateLimitBurst: Double? = nil,
            rateLimitPerSecond: Double? = nil,
            rateLimitFailedAuthCost: Double? = nil,
            rateLimitMaxClients: Int? = nil,
            unixSocketPath: String? = nil,
            headerTimeout: Double? = nil,
            idleTimeout: Double? = nil,
            maxConnections: Int? = nil,
            maxConnectionsPerClient: Int? = nil,
            dockerHost: String? = nil,
            logFormat: String? = nil,
            logLevel: String? = nil
        ) {
            self.host = host
            self.port = port
            self.bundlesDirectory = bundlesDirectory
            self.trustedKeysDirectory = trustedKeysDirectory
            self.stateDirectory = stateDirectory
            self.auditLogPath = auditLogPath
            self.auditMaxBytes = auditMaxBytes
            self.auditRetain = auditRetain
            self.rateLimitBurst = rateLimitBurst
            self.rateLimitPerSecond = rateLimitPerSecond
            self.rateLimitFailedAuthCost = rateLimitFailedAuthCost
            self.rateLimitMaxClients = rateLimitMaxClients
            self.unixSocketPath = unixSocketPath
            self.headerTimeout = headerTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
            self.maxConnectionsPerClient = maxConnectionsPerClient
            self.dockerHost = dockerHost
            self.logFormat = logFormat
            self.logLevel = logLevel
        }
    }

    public static let minimumTokenLength = 16

    /// Resolves options over environment over defaults and checks everything a start needs,
    /// except the directories' safety (``StartupCheck``). Each error is one line naming the key.
    public static func resolve(options: Options, environment: [String: String]) throws(StartupError)
        -> AgentConfiguration
    {
        // Listen address.
        var host = "127.0.0.1"
        var port = 8787
        if let listen = environment["OPS_AGENT_LISTEN"], !listen.isEmpty {
            guard let parsed = ListenAddress.parse(listen) else {
                throw StartupError(
                    "OPS_AGENT_LISTEN: bad listen address '\(listen)' (expected HOST:PORT with an IP host, e.g. 127.0.0.1:8787)"
                )
            }
            host = parsed.host
            port = parsed.port
        }
        if let optionHost = options.host {
            guard ListenAddress.isIPLiteral(optionHost) else {
                throw StartupError("--host: bad listen address '\(optionHost)' (expected an IPv4 or IPv6 literal)")
            }
            host = optionHost
        }
        if let optionPort = options.port {
            guard (0...65535).contains(optionPort) else {
                throw StartupError("--port: bad listen port \(optionPort) (expected 0...65535)")
            }
            port = optionPort
        }

        // Token.
        let token: String
        if let value = environment["OPS_AGENT_TOKEN"], !value.isEmpty {
            token = value
        } else if let file = environment["OPS_AGENT_TOKEN_FILE"], !file.isEmpty {
            token = try readTokenFile(file)
        } else {
            throw StartupError("OPS_AGENT_TOKEN: missing (set OPS_AGENT_TOKEN or OPS_AGENT_TOKEN_FILE)")
        }
        try checkToken(token, variable: "OPS_AGENT_TOKEN")

        if let value = environment["ZUMIK_TRUSTED_PROXIES"], !value.isEmpty {
            throw StartupError(
                "ZUMIK_TRUSTED_PROXIES: no longer supported: X-Forwarded-For is believed only from the Unix socket (--unix-socket / OPS_AGENT_UNIX_SOCKET), never over TCP; see docs/agent.md"
            )
        }
        let unixSocketPath = unixSocketSetting.value(options, environment)
        if let value = unixSocketPath, !ListenAddress.isUnixSocketPath(value) {
            throw StartupError(
                "--unix-socket / OPS_AGENT_UNIX_SOCKET: '\(value)' must be an absolute path under 108 bytes"
            )
        }
        let logFormatText = logFormatSetting.value(options, environment) ?? ""
        guard let logFormat = LogFormat(rawValue: logFormatText) else {
            throw StartupError("--log-format: unknown format '\(logFormatText)' (logfmt or json)")
        }
        let logLevel = logLevelSetting.value(options, environment) ?? ""
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw StartupError("--log-level: unknown level '\(logLevel)' (\(levels.joined(separator: ", ")))")
        }
        let dockerHost = dockerHostSetting.value(options, environment)
        if let value = dockerHost,
            !(value.hasPrefix("unix:///") || value.hasPrefix("tcp://127.") || value.hasPrefix("tcp://[::1]"))
        {
            throw StartupError("--docker-host: '\(value)' must be unix:///PATH or a loopback tcp:// address")
        }

        var configuration = AgentConfiguration(
            host: host,
            port: port,
            token: token,
            bundlesDirectory: bundlesSetting.value(options, environment) ?? "",
            trustedKeysDirectory: trustedKeysSetting.value(options, environment) ?? "",
            stateDirectory: stateSetting.value(options, environment) ?? "",
            auditLogPath: auditLogSetting.value(options, environment).flatMap { $0.isEmpty ? nil : $0 },
            unixSocketPath: unixSocketPath,
            dockerHost: dockerHost,
            logFormat: logFormat,
            logLevel: logLevel
        )
        for setting in numberSettings {
            try setting.apply(options, environment, &configuration)
        }
        configuration.mcp = try MCPConfiguration.resolve(options.mcp, environment: environment)
        configuration.metricsToken = try metricsToken(environment, actionToken: token)
        return configuration
    }

    static func readTokenFile(_ path: String, variable: String = "OPS_AGENT_TOKEN_FILE") throws(StartupError)
        -> String
    {
        var mode: UInt32 = 0
        var owner: UInt32 = 0
        guard zumik_lstat(path, &mode, &owner) == 0 else {
            throw StartupError("\(variable) \(path): cannot read: \(String(cString: strerror(errno)))")
        }
        guard mode & S_IFMT == S_IFREG else {
            throw StartupError("\(variable) \(path): not a regular file")
        }
        guard mode & 0o004 == 0 else {
            throw StartupError(
                "\(variable) \(path): readable by others (mode \(String(mode & 0o777, radix: 8))); chmod o-r"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else {
            throw StartupError("\(variable) \(path): cannot read as UTF-8")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}

/// Why the agent refused to start: one line, printed on stderr before a non-zero exit.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
