import CZumikSys
import Foundation
import ServerSupport

#if canImport(Glibc)
import Glibc
#endif

/// Everything the ops-agent is configured with. Built by ``AgentConfiguration/resolve(options:environment:)``
/// from command-line options and the environment (options win).
///
/// Keys (option / environment, default):
/// - listen address: `--host` + `--port` / `OPS_AGENT_LISTEN` (`HOST:PORT`, `[V6]:PORT`), `127.0.0.1:8787`.
///   The host must be an IP literal; the port 1…65535 (0 only for tests: an ephemeral port).
/// - token: `OPS_AGENT_TOKEN`, or `OPS_AGENT_TOKEN_FILE` (trailing newline trimmed; the file must not be
///   readable by others). At least 16 characters. Never logged.
/// - bundles: `--bundles-dir` / `ZUMIK_BUNDLES_DIR`, `/etc/zumik/bundles`.
/// - trusted keys: `--trusted-keys-dir` / `ZUMIK_TRUSTED_KEYS_DIR`, `/etc/zumik/trusted-keys`.
/// - state: `--state-dir` / `ZUMIK_STATE_DIR`, `/var/lib/zumik-ops-agent`.
/// - audit log: `--audit-log` / `ZUMIK_AUDIT_LOG`, `<state dir>/audit.jsonl`.
/// - rate limit: `--rate-limit-burst` / `ZUMIK_RATE_LIMIT_BURST` (30), `--rate-limit-per-second` /
///   `ZUMIK_RATE_LIMIT_PER_SECOND` (1), `--rate-limit-failed-auth-cost` (5), `--rate-limit-max-clients` (10000).
/// - Unix socket for nginx: `--unix-socket PATH` / `OPS_AGENT_UNIX_SOCKET`, none. `X-Forwarded-For` is believed
///   only on it; TCP clients are always keyed by their peer address (`ZUMIK_TRUSTED_PROXIES` is refused).
/// - connections: `--header-timeout` / `ZUMIK_HEADER_TIMEOUT` (10 s), `--idle-timeout` / `ZUMIK_IDLE_TIMEOUT`
///   (60 s), `--max-connections` / `ZUMIK_MAX_CONNECTIONS` (1024), `--max-connections-per-client` /
///   `ZUMIK_MAX_CONNECTIONS_PER_CLIENT` (64).
/// - docker host for actions: `--docker-host` / `ZUMIK_DOCKER_HOST`, none (never inherited from `DOCKER_HOST`).
/// - audit rotation: `--audit-max-bytes` / `ZUMIK_AUDIT_MAX_BYTES` (16 MiB), `--audit-retain` /
///   `ZUMIK_AUDIT_RETAIN` (8 rotated files).
/// - log format: `--log-format logfmt|json` / `ZUMIK_LOG_FORMAT`, `logfmt`; `--log-level` / `ZUMIK_LOG_LEVEL`, `info`.
/// - MCP: see ``MCPConfiguration``.
public struct AgentConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The bearer token. Secret: never log it.
    public var token: String
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
        self.auditLogPath = auditLogPath ?? (stateDirectory as NSString).appendingPathComponent("audit.jsonl")
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
        guard token.count >= minimumTokenLength else {
            throw StartupError(
                "OPS_AGENT_TOKEN: too short (\(token.count) characters; at least \(minimumTokenLength) required)"
            )
        }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw StartupError("OPS_AGENT_TOKEN: must be printable ASCII without spaces")
        }

        func pick(_ option: String?, _ key: String, _ fallback: String) -> String {
            if let option, !option.isEmpty { return option }
            if let value = environment[key], !value.isEmpty { return value }
            return fallback
        }
        let stateDirectory = pick(options.stateDirectory, "ZUMIK_STATE_DIR", "/var/lib/zumik-ops-agent")

        var rateLimit = ClientRateLimiter.Configuration()
        rateLimit.burst = try number(
            options.rateLimitBurst,
            environment,
            "ZUMIK_RATE_LIMIT_BURST",
            "--rate-limit-burst",
            rateLimit.burst,
            minimum: 1
        )
        rateLimit.refillPerSecond = try number(
            options.rateLimitPerSecond,
            environment,
            "ZUMIK_RATE_LIMIT_PER_SECOND",
            "--rate-limit-per-second",
            rateLimit.refillPerSecond,
            minimum: 0
        )
        rateLimit.failedAuthCost = try number(
            options.rateLimitFailedAuthCost,
            environment,
            "ZUMIK_RATE_LIMIT_FAILED_AUTH_COST",
            "--rate-limit-failed-auth-cost",
            rateLimit.failedAuthCost,
            minimum: 0
        )
        rateLimit.maxTrackedClients = Int(
            try number(
                options.rateLimitMaxClients.map(Double.init),
                environment,
                "ZUMIK_RATE_LIMIT_MAX_CLIENTS",
                "--rate-limit-max-clients",
                Double(rateLimit.maxTrackedClients),
                minimum: 2
            )
        )

        if let value = environment["ZUMIK_TRUSTED_PROXIES"], !value.isEmpty {
            throw StartupError(
                "ZUMIK_TRUSTED_PROXIES: no longer supported: X-Forwarded-For is believed only from the Unix socket (--unix-socket / OPS_AGENT_UNIX_SOCKET), never over TCP; see docs/agent.md"
            )
        }
        var unixSocketPath: String?
        if let value = options.unixSocketPath ?? environment["OPS_AGENT_UNIX_SOCKET"], !value.isEmpty {
            guard ListenAddress.isUnixSocketPath(value) else {
                throw StartupError(
                    "--unix-socket / OPS_AGENT_UNIX_SOCKET: '\(value)' must be an absolute path under 108 bytes"
                )
            }
            unixSocketPath = value
        }
        var connections = ConnectionLimits()
        connections.headerTimeoutSeconds = try number(
            options.headerTimeout,
            environment,
            "ZUMIK_HEADER_TIMEOUT",
            "--header-timeout",
            connections.headerTimeoutSeconds,
            minimum: 0.1
        )
        connections.idleTimeoutSeconds = try number(
            options.idleTimeout,
            environment,
            "ZUMIK_IDLE_TIMEOUT",
            "--idle-timeout",
            connections.idleTimeoutSeconds,
            minimum: 0.1
        )
        connections.maxConnections = Int(
            try number(
                options.maxConnections.map(Double.init),
                environment,
                "ZUMIK_MAX_CONNECTIONS",
                "--max-connections",
                Double(connections.maxConnections),
                minimum: 2
            )
        )
        connections.maxConnectionsPerClient = Int(
            try number(
                options.maxConnectionsPerClient.map(Double.init),
                environment,
                "ZUMIK_MAX_CONNECTIONS_PER_CLIENT",
                "--max-connections-per-client",
                Double(connections.maxConnectionsPerClient),
                minimum: 1
            )
        )

        let logFormatText = pick(options.logFormat, "ZUMIK_LOG_FORMAT", "logfmt")
        guard let logFormat = LogFormat(rawValue: logFormatText) else {
            throw StartupError("--log-format: unknown format '\(logFormatText)' (logfmt or json)")
        }
        let logLevel = pick(options.logLevel, "ZUMIK_LOG_LEVEL", "info")
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw StartupError("--log-level: unknown level '\(logLevel)' (\(levels.joined(separator: ", ")))")
        }
        var dockerHost: String?
        if let value = options.dockerHost ?? environment["ZUMIK_DOCKER_HOST"], !value.isEmpty {
            guard value.hasPrefix("unix:///") || value.hasPrefix("tcp://127.") || value.hasPrefix("tcp://[::1]") else {
                throw StartupError("--docker-host: '\(value)' must be unix:///PATH or a loopback tcp:// address")
            }
            dockerHost = value
        }

        let auditMaxBytes = try number(
            options.auditMaxBytes.map(Double.init),
            environment,
            "ZUMIK_AUDIT_MAX_BYTES",
            "--audit-max-bytes",
            Double(AuditRotation().maxBytes),
            minimum: 4096
        )
        let auditRetain = try number(
            options.auditRetain.map(Double.init),
            environment,
            "ZUMIK_AUDIT_RETAIN",
            "--audit-retain",
            Double(AuditRotation().retain),
            minimum: 1
        )
        var configuration = AgentConfiguration(
            host: host,
            port: port,
            token: token,
            bundlesDirectory: pick(options.bundlesDirectory, "ZUMIK_BUNDLES_DIR", "/etc/zumik/bundles"),
            trustedKeysDirectory: pick(
                options.trustedKeysDirectory,
                "ZUMIK_TRUSTED_KEYS_DIR",
                "/etc/zumik/trusted-keys"
            ),
            stateDirectory: stateDirectory,
            auditLogPath: pick(
                options.auditLogPath,
                "ZUMIK_AUDIT_LOG",
                (stateDirectory as NSString).appendingPathComponent("audit.jsonl")
            ),
            rateLimit: rateLimit,
            unixSocketPath: unixSocketPath,
            connectionLimits: connections,
            dockerHost: dockerHost,
            logFormat: logFormat,
            logLevel: logLevel
        )
        configuration.auditRotation = AuditRotation(maxBytes: Int(auditMaxBytes), retain: Int(auditRetain))
        configuration.mcp = try MCPConfiguration.resolve(options.mcp, environment: environment)
        return configuration
    }

    private static func number(
        _ option: Double?,
        _ environment: [String: String],
        _ key: String,
        _ flag: String,
        _ fallback: Double,
        minimum: Double
    ) throws(StartupError) -> Double {
        let value: Double
        if let option {
            value = option
        } else if let text = environment[key], !text.isEmpty {
            guard let parsed = Double(text) else { throw StartupError("\(key): not a number: '\(text)'") }
            value = parsed
        } else {
            return fallback
        }
        guard value.isFinite, value >= minimum else {
            throw StartupError("\(flag) / \(key): \(value) is out of range (at least \(minimum))")
        }
        return value
    }

    private static func readTokenFile(_ path: String) throws(StartupError) -> String {
        var mode: UInt32 = 0
        var owner: UInt32 = 0
        guard zumik_lstat(path, &mode, &owner) == 0 else {
            throw StartupError("OPS_AGENT_TOKEN_FILE \(path): cannot read: \(String(cString: strerror(errno)))")
        }
        guard mode & S_IFMT == S_IFREG else {
            throw StartupError("OPS_AGENT_TOKEN_FILE \(path): not a regular file")
        }
        guard mode & 0o004 == 0 else {
            throw StartupError(
                "OPS_AGENT_TOKEN_FILE \(path): readable by others (mode \(String(mode & 0o777, radix: 8))); chmod o-r"
            )
        }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else {
            throw StartupError("OPS_AGENT_TOKEN_FILE \(path): cannot read as UTF-8")
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
