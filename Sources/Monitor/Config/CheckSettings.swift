import Foundation
import Probing
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// A property's own schedule and debounce thresholds; nil keeps the global value.
///
/// - `interval`: time between this property's probes (global `interval`).
/// - `failure_threshold`, `success_threshold`: as the global keys, for this property.
/// - `confirmation_delay`: as the global key (`0`/`false` disables the early confirmation probe).
public struct PropertySchedule: Sendable, Hashable {
    public var interval: Duration?
    public var failureThreshold: Int?
    public var successThreshold: Int?
    /// `.zero` disables the early confirmation probe for this property.
    public var confirmationDelay: Duration?

    public init(
        interval: Duration? = nil,
        failureThreshold: Int? = nil,
        successThreshold: Int? = nil,
        confirmationDelay: Duration? = nil
    ) {
        self.interval = interval
        self.failureThreshold = failureThreshold
        self.successThreshold = successThreshold
        self.confirmationDelay = confirmationDelay
    }
}

extension MonitorConfig {
    /// The time between `property`'s probes: its own `interval`, else the global one.
    public func interval(for property: PropertyConfig) -> Duration { property.schedule.interval ?? interval }
}

/// The per-property keys of a Gatus-class check (issue 15): schedule and thresholds, the request (headers,
/// body, auth, redirects), conditions, and the TCP and DNS check kinds. Documented in config/README.md
/// ("Checks") and docs/checks.md.
extension ConfigReader {
    static let checkKeys: Set<String> = [
        "type", "address", "query", "record_type", "expect", "interval", "failure_threshold", "success_threshold",
        "confirmation_delay", "cert_warning_days", "headers", "headers_env", "body", "basic_auth",
        "bearer_token_env", "follow_redirects", "max_redirects", "conditions",
    ]

    /// `type` of the property at `path`: `http` (default), `tcp` or `dns`.
    mutating func checkType(_ entry: [String: Node], at path: String) -> String {
        guard let type = string(entry["type"], at: "\(path).type") else { return "http" }
        guard ["http", "tcp", "dns"].contains(type) else {
            fail("\(path).type", "must be http, tcp or dns, got \"\(type)\"")
            return "http"
        }
        return type
    }

    /// `false`/`off`/`no` or a zero duration: `.zero` (disabled); otherwise the duration.
    mutating func confirmationDelay(_ node: Node?, at path: String) -> Duration? {
        guard let node else { return nil }
        if case .scalar(let s) = node, ["false", "off", "no"].contains(s.string.lowercased()) { return .zero }
        return duration(node, at: path, allowZero: true)
    }

    /// Reads the check keys of the property at `path` into `property`.
    mutating func readCheckSettings(
        _ entry: [String: Node],
        type: String,
        at path: String,
        into property: inout PropertyConfig
    ) {
        readSchedule(entry, at: path, into: &property)
        switch type {
        case "tcp": readTCP(entry, at: path, into: &property)
        case "dns": readDNS(entry, at: path, into: &property)
        default: readRequest(entry, at: path, into: &property)
        }
        let httpOnly = [
            "headers", "headers_env", "body", "basic_auth", "bearer_token_env", "follow_redirects", "max_redirects",
            "conditions", "url", "method", "expected_status", "body_contains", "ca_file",
        ]
        for key in httpOnly where type != "http" && entry[key] != nil {
            fail("\(path).\(key)", "only for http checks (this property has type: \(type))")
        }
        for key in ["address", "query", "record_type", "expect"] where entry[key] != nil {
            let owner = key == "address" ? "tcp" : "dns"
            if type != owner { fail("\(path).\(key)", "only for type: \(owner)") }
        }
    }

    private mutating func readSchedule(_ entry: [String: Node], at path: String, into property: inout PropertyConfig) {
        if let v = duration(entry["interval"], at: "\(path).interval") { property.schedule.interval = v }
        if let v = int(entry["failure_threshold"], at: "\(path).failure_threshold", range: 2...100) {
            property.schedule.failureThreshold = v
        }
        if let v = int(entry["success_threshold"], at: "\(path).success_threshold", range: 1...100) {
            property.schedule.successThreshold = v
        }
        if let v = confirmationDelay(entry["confirmation_delay"], at: "\(path).confirmation_delay") {
            property.schedule.confirmationDelay = v
        }
        if let v = int(entry["cert_warning_days"], at: "\(path).cert_warning_days", range: 0...3650) {
            property.certWarningDays = v
        }
    }

    private mutating func readTCP(_ entry: [String: Node], at path: String, into property: inout PropertyConfig) {
        guard let address = string(entry["address"], at: "\(path).address") else {
            if entry["address"] == nil { fail("\(path).address", "required for type: tcp (HOST:PORT)") }
            return
        }
        guard let (host, port) = Self.hostPort(address), port > 0 else {
            fail("\(path).address", "expected HOST:PORT such as db.internal:5432, got \"\(address)\"")
            return
        }
        property.check = .tcp(host: host, port: port)
        property.url = host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
    }

    private mutating func readDNS(_ entry: [String: Node], at path: String, into property: inout PropertyConfig) {
        var recordType = DNSRecordType.a
        if let text = string(entry["record_type"], at: "\(path).record_type") {
            if let type = DNSRecordType(rawValue: text.uppercased()) {
                recordType = type
            } else {
                fail("\(path).record_type", "must be A or AAAA (what getaddrinfo answers), got \"\(text)\"")
            }
        }
        var expect: [String] = []
        if let node = entry["expect"] {
            let items: [Node] = if case .sequence(let list) = node { Array(list) } else { [node] }
            for (i, item) in items.enumerated() {
                let itemPath = "\(path).expect[\(i)]"
                guard let address = string(item, at: itemPath) else { continue }
                if Self.isNumericAddress(address, recordType) {
                    expect.append(address)
                } else {
                    fail(itemPath, "expected an \(recordType == .a ? "IPv4" : "IPv6") address, got \"\(address)\"")
                }
            }
        }
        guard let name = string(entry["query"], at: "\(path).query") else {
            if entry["query"] == nil { fail("\(path).query", "required for type: dns (the name to resolve)") }
            return
        }
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            fail("\(path).query", "expected a host name, got \"\(name)\"")
            return
        }
        property.check = .dns(name: name, recordType: recordType, expect: expect)
        property.url = "dns://\(name)/\(recordType.rawValue)"
    }

    static func isNumericAddress(_ text: String, _ type: DNSRecordType) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(type == .a ? AF_INET : AF_INET6, text, &buffer) == 1
    }

    private mutating func readRequest(_ entry: [String: Node], at path: String, into property: inout PropertyConfig) {
        var headers: [RequestHeader] = []
        if let node = entry["headers"], case .mapping(let map) = node {
            for (keyNode, value) in map {
                guard let name = headerName(keyNode, at: "\(path).headers"),
                    let text = string(value, at: "\(path).headers.\(name)")
                else { continue }
                if text.contains(where: { $0 == "\r" || $0 == "\n" }) {
                    fail("\(path).headers.\(name)", "must not contain a line break")
                } else {
                    headers.append(RequestHeader(name: name, value: text))
                }
            }
        } else if entry["headers"] != nil {
            fail("\(path).headers", "expected a mapping of header name to value")
        }
        if let node = entry["headers_env"], case .mapping(let map) = node {
            for (keyNode, value) in map {
                guard let name = headerName(keyNode, at: "\(path).headers_env"),
                    let secret = secretFromEnvironment(value, at: "\(path).headers_env.\(name)")
                else { continue }
                headers.append(RequestHeader(name: name, value: secret, isSecret: true))
            }
        } else if entry["headers_env"] != nil {
            fail("\(path).headers_env", "expected a mapping of header name to environment variable name")
        }
        if let node = entry["basic_auth"],
            let auth = mapping(node, at: "\(path).basic_auth", allowed: ["username", "password_env"])
        {
            let user = string(auth["username"], at: "\(path).basic_auth.username")
            if auth["username"] == nil { fail("\(path).basic_auth.username", "required") }
            if user?.contains(":") == true { fail("\(path).basic_auth.username", "must not contain a colon") }
            if auth["password_env"] == nil { fail("\(path).basic_auth.password_env", "required") }
            if let user, !user.contains(":"),
                let password = secretFromEnvironment(auth["password_env"], at: "\(path).basic_auth.password_env")
            {
                let token = Data("\(user):\(password)".utf8).base64EncodedString()
                headers.append(RequestHeader(name: "Authorization", value: "Basic \(token)", isSecret: true))
            }
        }
        if let token = secretFromEnvironment(entry["bearer_token_env"], at: "\(path).bearer_token_env") {
            headers.append(RequestHeader(name: "Authorization", value: "Bearer \(token)", isSecret: true))
        }
        if headers.filter({ $0.name.lowercased() == "authorization" }).count > 1 {
            fail(
                "\(path)",
                "more than one Authorization (headers, headers_env, basic_auth, bearer_token_env): keep one"
            )
        }
        property.headers = headers
        if let body = string(entry["body"], at: "\(path).body") { property.body = body }
        let follow = bool(entry["follow_redirects"], at: "\(path).follow_redirects") ?? false
        if follow { property.maxRedirects = 5 }
        if let cap = int(entry["max_redirects"], at: "\(path).max_redirects", range: 1...20) {
            if follow {
                property.maxRedirects = cap
            } else {
                fail("\(path).max_redirects", "needs follow_redirects: true")
            }
        }
        readConditions(entry["conditions"], at: path, into: &property)
        if entry["expected_status"] != nil, property.conditions.contains(where: { $0.subject == .status }) {
            fail("\(path).expected_status", "use either expected_status or a [STATUS] condition, not both")
        }
    }

    private mutating func readConditions(_ node: Node?, at path: String, into property: inout PropertyConfig) {
        guard let node else { return }
        guard case .sequence(let list) = node, !list.isEmpty else {
            fail("\(path).conditions", "expected a non-empty list such as [\"[STATUS] == 200\"]")
            return
        }
        for (i, item) in list.enumerated() {
            let itemPath = "\(path).conditions[\(i)]"
            guard let text = string(item, at: itemPath) else { continue }
            do {
                property.conditions.append(try Condition(text))
            } catch {
                fail(itemPath, "\(error) in \"\(text)\"")
            }
        }
    }

    private mutating func headerName(_ node: Node, at path: String) -> String? {
        guard let name = node.string, !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "!#$%&'*+-.^_`|~".contains($0)) })
        else {
            fail(path, "header names must be HTTP tokens such as X-Api-Key, got \"\(node.string ?? "?")\"")
            return nil
        }
        return name
    }

    /// The value of the environment variable named by `node`; an unset, empty or multi-line value is an error
    /// that names the variable, never its value.
    private mutating func secretFromEnvironment(_ node: Node?, at path: String) -> String? {
        guard let variable = string(node, at: path) else { return nil }
        guard isValidEnvName(variable) else {
            fail(path, "must be an environment variable name such as API_TOKEN")
            return nil
        }
        guard let value = environment[variable], !value.isEmpty else {
            fail(path, "environment variable \(variable) is not set")
            return nil
        }
        guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            fail(path, "environment variable \(variable) contains a line break")
            return nil
        }
        return value
    }
}
