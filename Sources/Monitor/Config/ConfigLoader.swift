// One concern, kept in one file on purpose (about 400 lines): the monitor config's schema, key by key, so that
// every key, its range and its default are read in one place (the typed reads are in ConfigReader.swift).

import ActionKit
public import Foundation
import Probing
import Yams

/// Reads `MonitorConfig` from YAML and the environment. Unknown keys are errors; every error names the file,
/// the key path and the problem, and validation reports all errors it finds, not just the first.
///
/// Top-level keys: `interval`, `confirmation_delay`, `failure_threshold`, `success_threshold`,
/// `degraded_threshold_ms`, `cert_warning_days`, `max_in_flight`, `store_path`, `control` (`listen`),
/// `discord` (`retry_base_ms`, `retry_max_ms`, `edit_messages`), `paging` (`reminder_minutes`), `hosts` (map name → `url_env`, `token_env`),
/// `remediation` (`model`, `base_url`, `settle_seconds`, `max_completion_tokens`, `model_timeout_seconds`,
/// `max_model_turns`), `properties` (list; keys `name`, `url`, `method`, `expected_status`,
/// `body_contains`, `timeout`, `degraded_ms`, `alert_only`, `host`, `service`, `ca_file`, and the check keys
/// of `CheckSettings.swift`), `maintenance` (`MaintenanceSettings.swift`).
/// Durations are `500ms`, `10s`, `5m`, `1h` or a number of seconds.
public enum ConfigLoader {
    /// Loads and validates `path` with secrets from `environment`.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigErrors) -> MonitorConfig
    {
        let file = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors([ConfigError(file: file, path: "", problem: "cannot read file at \(path)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(file: file, path: "", problem: "not UTF-8 text")])
        }
        var config = try parse(yaml: text, file: file, environment: environment)
        config.storePath = try resolveStorePath(config.storePath, configPath: path, environment: environment)
        return config
    }

    /// Parses YAML text; `file` names the source in errors.
    public static func parse(yaml: String, file: String, environment: [String: String]) throws(ConfigErrors)
        -> MonitorConfig
    {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            var where_ = ""
            if let yamlError = error as? YamlError, case .scanner(_, let problem, let mark, _) = yamlError {
                where_ = "line \(mark.line), column \(mark.column): \(problem)"
            } else if let yamlError = error as? YamlError, case .parser(_, let problem, let mark, _) = yamlError {
                where_ = "line \(mark.line), column \(mark.column): \(problem)"
            } else {
                where_ = "\(error)"
            }
            throw ConfigErrors([ConfigError(file: file, path: "", problem: "invalid YAML: \(where_)")])
        }
        var reader = ConfigReader(file: file)
        let config = reader.read(root: root, environment: environment)
        if !reader.errors.isEmpty { throw ConfigErrors(reader.errors) }
        return config
    }
}

/// `^[a-z0-9][a-z0-9._-]{0,63}$`
private func isValidName(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 64 else { return false }
    let lowerDigit = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    return lowerDigit(first) && s.unicodeScalars.allSatisfy { lowerDigit($0) || $0 == "." || $0 == "_" || $0 == "-" }
}

/// `^[A-Z_][A-Z0-9_]{0,127}$`
func isValidEnvName(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 128 else { return false }
    return (("A"..."Z").contains(first) || first == "_")
        && s.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
}

/// The schema of the monitor config: which keys exist, their ranges and defaults.
extension ConfigReader {
    /// The `remediation:` subtree; absent or null keeps every default.
    mutating func readRemediation(_ node: Node) -> RemediationSettings {
        var settings = RemediationSettings()
        if node.tag.description == Tag.Name.null.rawValue { return settings }
        let allowed: Set<String> = [
            "model", "base_url", "settle_seconds", "max_completion_tokens", "model_timeout_seconds", "max_model_turns",
        ]
        guard let map = mapping(node, at: "remediation", allowed: allowed) else { return settings }
        func text(_ key: String) -> String? {
            guard let value = string(map[key], at: "remediation.\(key)") else { return nil }
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                fail("remediation.\(key)", "must be a non-empty string")
                return nil
            }
            return value
        }
        if let model = text("model") { settings.model = model }
        if let base = text("base_url") {
            if base.hasPrefix("https://") || base.hasPrefix("http://") {
                settings.baseURL = base
            } else {
                fail("remediation.base_url", "must be an http(s) URL")
            }
        }
        if let settle = number(map["settle_seconds"], at: "remediation.settle_seconds", range: 0...3600) {
            settings.settle = .milliseconds(Int64(settle * 1000))
        }
        if let tokens = number(map["max_completion_tokens"], at: "remediation.max_completion_tokens", range: 16...16384)
        {
            settings.maxCompletionTokens = Int(tokens)
        }
        if let timeout = number(map["model_timeout_seconds"], at: "remediation.model_timeout_seconds", range: 1...600) {
            settings.modelTimeout = .milliseconds(Int64(timeout * 1000))
        }
        if let turns = number(map["max_model_turns"], at: "remediation.max_model_turns", range: 1...100) {
            settings.maxModelTurns = Int(turns)
        }
        return settings
    }

    mutating func read(root: Node?, environment: [String: String]) -> MonitorConfig {
        var config = MonitorConfig()
        self.environment = environment
        guard let root else {
            fail("", "the file is empty; at least `properties` is required")
            return config
        }
        let topKeys: Set<String> = [
            "interval", "confirmation_delay", "failure_threshold", "success_threshold", "degraded_threshold_ms",
            "cert_warning_days", "max_in_flight", "store_path", "control", "discord", "hosts", "remediation",
            "properties", "paging", "maintenance", "history", "status_page",
        ]
        guard let top = mapping(root, at: "", allowed: topKeys.union(Self.storeKeys).union(Self.storeOutageKeys)) else {
            return config
        }
        if let v = duration(top["interval"], at: "interval") { config.interval = v }
        if let v = confirmationDelay(top["confirmation_delay"], at: "confirmation_delay") {
            config.confirmationDelay = v == .zero ? nil : v
        }
        if let v = int(top["failure_threshold"], at: "failure_threshold", range: 2...100) {
            config.failureThreshold = v
        }
        if let v = int(top["success_threshold"], at: "success_threshold", range: 1...100) {
            config.successThreshold = v
        }
        if let v = int(top["degraded_threshold_ms"], at: "degraded_threshold_ms", range: 1...600_000) {
            config.degradedThresholdMs = v
        }
        if let v = int(top["cert_warning_days"], at: "cert_warning_days", range: 0...3650) {
            config.certWarningDays = v
        }
        if let v = int(top["max_in_flight"], at: "max_in_flight", range: 1...10_000) { config.maxInFlight = v }
        if let v = string(top["store_path"], at: "store_path") {
            if v.isEmpty { fail("store_path", "must not be empty") } else { config.storePath = v }
        }
        if let node = top["control"], let control = mapping(node, at: "control", allowed: ["listen"]) {
            if let listen = string(control["listen"], at: "control.listen") {
                if let (host, port) = Self.hostPort(listen) {
                    config.controlHost = host
                    config.controlPort = port
                } else {
                    fail("control.listen", "expected HOST:PORT such as 127.0.0.1:9464, got \"\(listen)\"")
                }
            }
        }
        if let node = top["discord"],
            let discord = mapping(node, at: "discord", allowed: ["retry_base_ms", "retry_max_ms", "edit_messages"])
        {
            if let v = int(discord["retry_base_ms"], at: "discord.retry_base_ms", range: 1...3_600_000) {
                config.retryBase = .milliseconds(v)
            }
            if let v = int(discord["retry_max_ms"], at: "discord.retry_max_ms", range: 1...86_400_000) {
                config.retryMax = .milliseconds(v)
            }
        }
        if let node = top["remediation"] { config.remediation = readRemediation(node) }
        config.onCall = readOnCall(top)
        config.store = readStore(top, environment: environment)
        config.secrets = readSecrets(environment)
        config.secrets.metricsToken = readMetricsToken(environment, controlToken: config.secrets.controlToken)
        config.hosts = readHosts(top["hosts"], environment: environment)
        config.properties = readProperties(top["properties"], config: config)
        config.maintenance = readMaintenance(top["maintenance"], properties: Set(config.properties.map(\.name)))
        if let node = top["history"] { config.history = readHistory(node) }
        if let node = top["store_outage"] { config.storeOutage = readStoreOutage(node) }
        if let node = top["status_page"] {
            config.statusPage = readStatusPage(node, names: config.properties.map(\.name))
        }
        return config
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }

    mutating func readSecrets(_ env: [String: String]) -> Secrets {
        var secrets = Secrets()
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
            return v
        }
        if let url = value("DISCORD_WEBHOOK_URL") {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                parsed.host != nil
            {
                secrets.discordWebhookURL = Secret(url)
            } else {
                errors.append(
                    ConfigError(file: "environment", path: "DISCORD_WEBHOOK_URL", problem: "not an http(s) URL")
                )
            }
        }
        if let id = value("DISCORD_ALERT_USER_ID") {
            if id.count <= 20, id.allSatisfy({ $0.isASCII && $0.isNumber }) {
                secrets.discordAlertUserID = id
            } else {
                errors.append(
                    ConfigError(
                        file: "environment",
                        path: "DISCORD_ALERT_USER_ID",
                        problem: "must be a numeric Discord user id"
                    )
                )
            }
        }
        if let token = value("CONTROL_TOKEN") {
            if token.count >= 16 {
                secrets.controlToken = Secret(token)
            } else {
                errors.append(
                    ConfigError(file: "environment", path: "CONTROL_TOKEN", problem: "must be at least 16 characters")
                )
            }
        }
        if let key = value("SEPARATE_OPENAI_KEY") { secrets.openAIKey = Secret(key) }
        if let rounds = value("MAX_REMEDIATION_ROUNDS") {
            if let n = Int(rounds), (0...20).contains(n) {
                secrets.maxRemediationRounds = n
            } else {
                errors.append(
                    ConfigError(
                        file: "environment",
                        path: "MAX_REMEDIATION_ROUNDS",
                        problem: "must be an integer between 0 and 20"
                    )
                )
            }
        }
        return secrets
    }

    mutating func readHosts(_ node: Node?, environment: [String: String]) -> [String: HostConfig] {
        var hosts: [String: HostConfig] = [:]
        var reported: Set<String> = []
        func resolve(_ host: inout HostConfig) {
            if let url = environment[host.urlEnv], !url.isEmpty {
                if let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()),
                    parsed.host?.isEmpty == false
                {
                    host.url = url
                } else if reported.insert(host.urlEnv).inserted {
                    errors.append(ConfigError(file: "environment", path: host.urlEnv, problem: "not an http(s) URL"))
                }
            }
            if let token = environment[host.tokenEnv], !token.isEmpty { host.token = Secret(token) }
        }
        var defaultHost = HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")
        resolve(&defaultHost)
        hosts["default"] = defaultHost
        guard let node else { return hosts }
        guard case .mapping(let hostMap) = node else {
            fail("hosts", "expected a mapping of host name to {url_env, token_env}")
            return hosts
        }
        for (keyNode, value) in hostMap {
            guard let name = keyNode.string, isValidName(name) else {
                fail("hosts", "host names must match [a-z0-9][a-z0-9._-]*, got \"\(keyNode.string ?? "?")\"")
                continue
            }
            let path = "hosts.\(name)"
            guard let entry = mapping(value, at: path, allowed: ["url_env", "token_env"]) else { continue }
            var host = HostConfig(name: name, urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")
            for (key, keyPath) in [("url_env", "\(path).url_env"), ("token_env", "\(path).token_env")] {
                guard let v = string(entry[key], at: keyPath) else {
                    if entry[key] == nil { fail(keyPath, "required") }
                    continue
                }
                guard isValidEnvName(v) else {
                    fail(keyPath, "must be an environment variable name such as OPS_AGENT_URL")
                    continue
                }
                if key == "url_env" { host.urlEnv = v } else { host.tokenEnv = v }
            }
            resolve(&host)
            hosts[name] = host
        }
        return hosts
    }

    mutating func readProperties(_ node: Node?, config: MonitorConfig) -> [PropertyConfig] {
        guard let node else {
            fail("properties", "required: the list of properties to watch")
            return []
        }
        guard case .sequence(let sequence) = node else {
            fail("properties", "expected a list")
            return []
        }
        if sequence.isEmpty { fail("properties", "must list at least one property") }
        let keys = Self.checkKeys.union([
            "name", "url", "method", "expected_status", "body_contains", "timeout", "degraded_ms", "alert_only",
            "host", "service", "ca_file", "quorum",
        ])
        var out: [PropertyConfig] = []
        var seen: [String: Int] = [:]
        for (index, item) in sequence.enumerated() {
            let path = "properties[\(index)]"
            guard let entry = mapping(item, at: path, allowed: keys) else { continue }
            let errorCount = errors.count
            var property = PropertyConfig(name: "", url: "", degradedMs: config.degradedThresholdMs)
            if let name = string(entry["name"], at: "\(path).name") {
                if !isValidName(name) {
                    fail("\(path).name", "must match ^[a-z0-9][a-z0-9._-]{0,63}$, got \"\(name)\"")
                } else if let first = seen[name] {
                    fail("\(path).name", "duplicate name \"\(name)\" (also properties[\(first)])")
                } else {
                    seen[name] = index
                    property.name = name
                }
            } else if entry["name"] == nil {
                fail("\(path).name", "required")
            }
            let type = checkType(entry, at: path)
            if type != "http" {
                // tcp and dns checks have no url (readCheckSettings reports one given).
            } else if let url = string(entry["url"], at: "\(path).url") {
                if let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()),
                    let host = parsed.host, !host.isEmpty, parsed.user == nil, parsed.password == nil
                {
                    property.url = url
                } else {
                    fail(
                        "\(path).url",
                        "not an http(s) URL with a host (and no credentials; use basic_auth or bearer_token_env): \"\(Self.withoutCredentials(url))\""
                    )
                }
            } else if entry["url"] == nil {
                fail("\(path).url", "required")
            }
            if let method = string(entry["method"], at: "\(path).method") {
                let allowed = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                if allowed.contains(method.uppercased()) {
                    property.method = method.uppercased()
                } else {
                    fail("\(path).method", "must be one of \(allowed.joined(separator: ", ")), got \"\(method)\"")
                }
            }
            if let statusNode = entry["expected_status"] {
                let statusPath = "\(path).expected_status"
                var codes: [Int] = []
                switch statusNode {
                case .sequence(let list):
                    if list.isEmpty { fail(statusPath, "must not be empty") }
                    for (i, code) in list.enumerated() {
                        if let c = int(code, at: "\(statusPath)[\(i)]", range: 100...599) { codes.append(c) }
                    }
                default:
                    if let c = int(statusNode, at: statusPath, range: 100...599) { codes.append(c) }
                }
                if !codes.isEmpty { property.expectedStatus = codes }
            }
            if let body = string(entry["body_contains"], at: "\(path).body_contains") {
                if body.isEmpty {
                    fail("\(path).body_contains", "must not be empty")
                } else {
                    property.bodyContains = body
                }
            }
            if let t = duration(entry["timeout"], at: "\(path).timeout") {
                if t > .seconds(300) { fail("\(path).timeout", "must be at most 300s") } else { property.timeout = t }
            }
            if let d = int(entry["degraded_ms"], at: "\(path).degraded_ms", range: 1...600_000) {
                property.degradedMs = d
            }
            if let a = bool(entry["alert_only"], at: "\(path).alert_only") { property.alertOnly = a }
            if let host = string(entry["host"], at: "\(path).host") {
                if config.hosts[host] == nil {
                    fail("\(path).host", "unknown host \"\(host)\" (define it under hosts, or use default)")
                } else {
                    property.host = host
                }
            }
            if let service = string(entry["service"], at: "\(path).service") {
                if !isValidName(service) {
                    fail("\(path).service", "must match ^[a-z0-9][a-z0-9._-]{0,63}$, got \"\(service)\"")
                } else {
                    property.service = service
                }
            }
            if let ca = string(entry["ca_file"], at: "\(path).ca_file") {
                if FileManager.default.isReadableFile(atPath: ca) {
                    property.caFile = ca
                } else {
                    fail("\(path).ca_file", "cannot read \"\(ca)\"")
                }
            }
            property.quorum = int(entry["quorum"], at: "\(path).quorum", range: 1...100)
            readCheckSettings(entry, type: type, at: path, into: &property)
            if !property.alertOnly, property.host != nil, property.service == nil {
                fail("\(path).service", "required when a property has a host and is not alert_only")
            }
            if errors.count == errorCount { out.append(property) }
        }
        return out
    }

    /// `url` as an error may quote it: credentials (`user:password@`) replaced by `***@`.
    static func withoutCredentials(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.user != nil || parts.password != nil else { return url }
        parts.user = "***"
        parts.password = nil
        return parts.string ?? "***"
    }
}
