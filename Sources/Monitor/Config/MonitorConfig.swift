import ActionKit
import Foundation
public import Probing

/// The monitor's configuration: properties and policy from the YAML file, secrets from the environment.
/// Every key is documented where `ConfigLoader` reads it.
public struct MonitorConfig: Sendable {
    /// Time between probe cycles (`interval`, default 60 s).
    public var interval: Duration
    /// Delay before the confirmation probe after a first failure (`confirmation_delay`, default 10 s;
    /// `0` or `false` disables it and the next scheduled cycle confirms).
    public var confirmationDelay: Duration?
    /// Consecutive failed probes that open an incident (`failure_threshold`, default 2, at least 2: one blip
    /// never alerts).
    public var failureThreshold: Int
    /// Consecutive healthy probes that close an incident (`success_threshold`, default 1).
    public var successThreshold: Int
    /// Default latency (ms, total time) above which an answer is degraded (`degraded_threshold_ms`,
    /// default 2000); a property's `degraded_ms` overrides it.
    public var degradedThresholdMs: Int
    /// A certificate expiring within this many days is `expiring` and warned about daily (`cert_warning_days`,
    /// default 14); a property's own `cert_warning_days` overrides it.
    public var certWarningDays: Int
    /// Cap on transfers in flight (`max_in_flight`, default 64).
    public var maxInFlight: Int
    /// SQLite state store (`store_path`, default `zumik-monitor.sqlite`, relative to the config file;
    /// `ZUMIK_STORE_PATH` in the environment wins).
    public var storePath: String
    /// Control API listen address (`control.listen`, default `127.0.0.1:9464`).
    public var controlHost: String
    public var controlPort: Int
    /// Outbox sender backoff (`discord.retry_base_ms` default 1000, `discord.retry_max_ms` default 300000).
    public var retryBase: Duration
    public var retryMax: Duration
    /// The `remediation:` settings (model, settle time, caps).
    public var remediation: RemediationSettings
    /// How incidents reach the on-call channel (`discord.edit_messages`, `paging.reminder_minutes`).
    public var onCall = OnCallSettings()
    public var properties: [PropertyConfig]
    /// Ops-agent hosts by name; `default` always exists when `OPS_AGENT_URL` is set.
    public var hosts: [String: HostConfig]
    public var secrets: Secrets
    /// Scheduled maintenance windows (`maintenance:`, `MaintenanceSettings.swift`).
    public var maintenance: [MaintenanceWindow] = []
    /// The `history:` and `status_page:` settings (HistorySettings.swift).
    public var history = HistorySettings()
    public var statusPage = StatusPageSettings()
    /// The store backend (`store`, `ZUMIK_DATABASE_URL`) and this instance's `location`.
    public var store = StoreSettings()
    /// What happens while the store does not answer (`store_outage:`, StoreOutageSettings.swift).
    public var storeOutage = StoreOutageSettings()

    public init(
        interval: Duration = .seconds(60),
        confirmationDelay: Duration? = .seconds(10),
        failureThreshold: Int = 2,
        successThreshold: Int = 1,
        degradedThresholdMs: Int = 2000,
        certWarningDays: Int = 14,
        maxInFlight: Int = 64,
        storePath: String = "zumik-monitor.sqlite",
        controlHost: String = "127.0.0.1",
        controlPort: Int = 9464,
        retryBase: Duration = .seconds(1),
        retryMax: Duration = .seconds(300),
        remediation: RemediationSettings = RemediationSettings(),
        properties: [PropertyConfig] = [],
        hosts: [String: HostConfig] = [:],
        secrets: Secrets = Secrets()
    ) {
        self.interval = interval
        self.confirmationDelay = confirmationDelay
        self.failureThreshold = failureThreshold
        self.successThreshold = successThreshold
        self.degradedThresholdMs = degradedThresholdMs
        self.certWarningDays = certWarningDays
        self.maxInFlight = maxInFlight
        self.storePath = storePath
        self.controlHost = controlHost
        self.controlPort = controlPort
        self.retryBase = retryBase
        self.retryMax = retryMax
        self.remediation = remediation
        self.properties = properties
        self.hosts = hosts
        self.secrets = secrets
    }

    public func property(named name: String) -> PropertyConfig? { properties.first { $0.name == name } }
}

/// One watched property: what the prober checks (`target`: name, URL, method, expected status, body text,
/// timeout, degraded threshold, CA file; its fields read and write as the property's own, e.g.
/// `property.url`) and what the monitor does about it. Names are unique, `^[a-z0-9][a-z0-9._-]{0,63}$`.
@dynamicMemberLookup
public struct PropertyConfig: Sendable, Hashable {
    public var target: ProbeTarget
    /// Alert only, never remediate.
    public var alertOnly: Bool
    /// Ops-agent host name (a `hosts` entry, or `default`).
    public var host: String?
    /// The service remediation targets, e.g. `api-core`.
    public var service: String?
    /// Live locations that must agree before the property's state changes (`quorum`; nil: a majority).
    public var quorum: Int? = nil
    /// Its own interval and debounce thresholds (`CheckSettings.swift`).
    public var schedule = PropertySchedule()

    public init(
        name: String,
        url: String,
        method: String = "GET",
        expectedStatus: [Int] = [200],
        bodyContains: String? = nil,
        timeout: Duration = .seconds(10),
        degradedMs: Int = 2000,
        alertOnly: Bool = false,
        host: String? = nil,
        service: String? = nil,
        caFile: String? = nil
    ) {
        self.target = ProbeTarget(
            name: name,
            url: url,
            method: method,
            expectedStatus: expectedStatus,
            bodyContains: bodyContains,
            timeout: timeout,
            degradedMs: degradedMs,
            caFile: caFile
        )
        self.alertOnly = alertOnly
        self.host = host
        self.service = service
    }

    /// Properties that share an incident: a remediable property's host and service (`HOST/SERVICE`); nil
    /// for alert-only properties and those without both, which always have incidents of their own.
    public var incidentGroup: String? {
        guard !alertOnly, let host, let service else { return nil }
        return "\(host)/\(service)"
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<ProbeTarget, Value>) -> Value {
        get { target[keyPath: keyPath] }
        set { target[keyPath: keyPath] = newValue }
    }
}

/// An ops-agent host: URL and token read from the named environment variables.
public struct HostConfig: Sendable, Hashable {
    public var name: String
    public var urlEnv: String
    public var tokenEnv: String
    /// Resolved from `urlEnv` (nil when unset).
    public var url: String?
    public var token: Secret?

    public init(name: String, urlEnv: String, tokenEnv: String, url: String? = nil, token: Secret? = nil) {
        self.name = name
        self.urlEnv = urlEnv
        self.tokenEnv = tokenEnv
        self.url = url
        self.token = token
    }
}

/// Secrets and operator settings from the environment. Never printed: `Secret` redacts itself.
public struct Secrets: Sendable {
    /// `DISCORD_WEBHOOK_URL`; nil sends alerts to the console.
    public var discordWebhookURL: Secret?
    /// `DISCORD_ALERT_USER_ID`: the on-call user to page (a Discord snowflake).
    public var discordAlertUserID: String?
    /// `CONTROL_TOKEN`: bearer token of the control API.
    public var controlToken: Secret?
    /// `SEPARATE_OPENAI_KEY` (issue 5).
    public var openAIKey: Secret?
    /// `MAX_REMEDIATION_ROUNDS` (default 3).
    public var maxRemediationRounds: Int
    /// `METRICS_TOKEN`: a read-only bearer token good for `GET /metrics` and nothing else.
    public var metricsToken: Secret? = nil

    public init(
        discordWebhookURL: Secret? = nil,
        discordAlertUserID: String? = nil,
        controlToken: Secret? = nil,
        openAIKey: Secret? = nil,
        maxRemediationRounds: Int = 3
    ) {
        self.discordWebhookURL = discordWebhookURL
        self.discordAlertUserID = discordAlertUserID
        self.controlToken = controlToken
        self.openAIKey = openAIKey
        self.maxRemediationRounds = maxRemediationRounds
    }
}
