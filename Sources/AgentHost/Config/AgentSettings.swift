/// The ops-agent's plain settings, each declared once: its option, its environment key, its default
/// and its bounds. ``AgentConfiguration/resolve(options:environment:)`` applies them (the option wins
/// over the environment, the environment over the default) and names both in its errors; the binary's
/// help lists ``AgentConfiguration/settingNames``; docs/agent.md's option table is checked against them.
///
/// The listen address, the token and MCP have their own rules and stay in `resolve`.
extension AgentConfiguration {
    /// A number: `flag` / `key`, at least `minimum`; its default is the configuration's default value.
    struct NumberSetting {
        let flag: String
        let key: String
        let minimum: Double
        let apply: (Options, [String: String], inout AgentConfiguration) throws(StartupError) -> Void

        init<Value: SettingNumber>(
            _ flag: String,
            _ key: String,
            minimum: Double,
            option: KeyPath<Options, Value?>,
            target: WritableKeyPath<AgentConfiguration, Value>
        ) {
            self.flag = flag
            self.key = key
            self.minimum = minimum
            self.apply = { (options, environment, configuration) throws(StartupError) in
                let value: Double
                if let given = options[keyPath: option] {
                    value = given.settingValue
                } else if let text = environment[key], !text.isEmpty {
                    guard let parsed = Double(text) else { throw StartupError("\(key): not a number: '\(text)'") }
                    value = parsed
                } else {
                    return
                }
                guard value.isFinite, value >= minimum else {
                    throw StartupError("\(flag) / \(key): \(value) is out of range (at least \(minimum))")
                }
                configuration[keyPath: target] = Value(value)
            }
        }
    }

    /// A text: `flag` / `key`, else `fallback`. Without a fallback the setting is optional, and an
    /// empty option turns it off instead of falling through to the environment.
    struct TextSetting: Sendable {
        let flag: String
        let key: String
        let fallback: String?
        let option: any KeyPath<Options, String?> & Sendable

        func value(_ options: Options, _ environment: [String: String]) -> String? {
            if let given = options[keyPath: option], !given.isEmpty || fallback == nil {
                return given.isEmpty ? nil : given
            }
            if let value = environment[key], !value.isEmpty { return value }
            return fallback
        }
    }

    static var numberSettings: [NumberSetting] {
        [
            .init(
                "--rate-limit-burst",
                "ZUMIK_RATE_LIMIT_BURST",
                minimum: 1,
                option: \.rateLimitBurst,
                target: \.rateLimit.burst
            ),
            .init(
                "--rate-limit-per-second",
                "ZUMIK_RATE_LIMIT_PER_SECOND",
                minimum: 0,
                option: \.rateLimitPerSecond,
                target: \.rateLimit.refillPerSecond
            ),
            .init(
                "--rate-limit-failed-auth-cost",
                "ZUMIK_RATE_LIMIT_FAILED_AUTH_COST",
                minimum: 0,
                option: \.rateLimitFailedAuthCost,
                target: \.rateLimit.failedAuthCost
            ),
            .init(
                "--rate-limit-max-clients",
                "ZUMIK_RATE_LIMIT_MAX_CLIENTS",
                minimum: 2,
                option: \.rateLimitMaxClients,
                target: \.rateLimit.maxTrackedClients
            ),
            .init(
                "--header-timeout",
                "ZUMIK_HEADER_TIMEOUT",
                minimum: 0.1,
                option: \.headerTimeout,
                target: \.connectionLimits.headerTimeoutSeconds
            ),
            .init(
                "--idle-timeout",
                "ZUMIK_IDLE_TIMEOUT",
                minimum: 0.1,
                option: \.idleTimeout,
                target: \.connectionLimits.idleTimeoutSeconds
            ),
            .init(
                "--max-connections",
                "ZUMIK_MAX_CONNECTIONS",
                minimum: 2,
                option: \.maxConnections,
                target: \.connectionLimits.maxConnections
            ),
            .init(
                "--max-connections-per-client",
                "ZUMIK_MAX_CONNECTIONS_PER_CLIENT",
                minimum: 1,
                option: \.maxConnectionsPerClient,
                target: \.connectionLimits.maxConnectionsPerClient
            ),
            .init(
                "--audit-max-bytes",
                "ZUMIK_AUDIT_MAX_BYTES",
                minimum: 4096,
                option: \.auditMaxBytes,
                target: \.auditRotation.maxBytes
            ),
            .init(
                "--audit-retain",
                "ZUMIK_AUDIT_RETAIN",
                minimum: 1,
                option: \.auditRetain,
                target: \.auditRotation.retain
            ),
            .init(
                "--event-loop-threads",
                "ZUMIK_EVENT_LOOP_THREADS",
                minimum: 1,
                option: \.eventLoopThreads,
                target: \.eventLoopThreads
            ),
        ]
    }

    static let bundlesSetting = TextSetting(
        flag: "--bundles-dir",
        key: "ZUMIK_BUNDLES_DIR",
        fallback: "/etc/zumik/bundles",
        option: \.bundlesDirectory
    )
    static let trustedKeysSetting = TextSetting(
        flag: "--trusted-keys-dir",
        key: "ZUMIK_TRUSTED_KEYS_DIR",
        fallback: "/etc/zumik/trusted-keys",
        option: \.trustedKeysDirectory
    )
    static let stateSetting = TextSetting(
        flag: "--state-dir",
        key: "ZUMIK_STATE_DIR",
        fallback: "/var/lib/zumik-ops-agent",
        option: \.stateDirectory
    )
    /// Its default, `<state dir>/audit.jsonl`, depends on the state directory: "" here, applied by `init`.
    static let auditLogSetting = TextSetting(
        flag: "--audit-log",
        key: "ZUMIK_AUDIT_LOG",
        fallback: "",
        option: \.auditLogPath
    )
    static let unixSocketSetting = TextSetting(
        flag: "--unix-socket",
        key: "OPS_AGENT_UNIX_SOCKET",
        fallback: nil,
        option: \.unixSocketPath
    )
    static let dockerHostSetting = TextSetting(
        flag: "--docker-host",
        key: "ZUMIK_DOCKER_HOST",
        fallback: nil,
        option: \.dockerHost
    )
    static let logFormatSetting = TextSetting(
        flag: "--log-format",
        key: "ZUMIK_LOG_FORMAT",
        fallback: "logfmt",
        option: \.logFormat
    )
    static let logLevelSetting = TextSetting(
        flag: "--log-level",
        key: "ZUMIK_LOG_LEVEL",
        fallback: "info",
        option: \.logLevel
    )

    static var textSettings: [TextSetting] {
        [
            bundlesSetting, trustedKeysSetting, stateSetting, auditLogSetting, unixSocketSetting, dockerHostSetting,
            logFormatSetting, logLevelSetting,
        ]
    }

    /// Every setting's option and environment key, in the order of the tables (for help and docs checks).
    public static var settingNames: [(flag: String, key: String)] {
        textSettings.map { ($0.flag, $0.key) } + numberSettings.map { ($0.flag, $0.key) }
    }
}

/// The number types a ``AgentConfiguration/NumberSetting`` holds.
protocol SettingNumber {
    init(_ value: Double)
    var settingValue: Double { get }
}

extension Int: SettingNumber {
    var settingValue: Double { Double(self) }
}

extension Double: SettingNumber {
    var settingValue: Double { self }
}
