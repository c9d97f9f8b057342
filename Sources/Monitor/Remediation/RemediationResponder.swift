public import ActionKit
import Foundation
public import Logging

/// Settings of the `remediation:` subtree of the monitor config.
///
/// - `remediation.model`: Chat Completions model (default `gpt-4o-mini`).
/// - `remediation.base_url`: OpenAI-compatible base URL (default `https://api.openai.com/v1`).
/// - `remediation.settle_seconds`: wait after a remediation before the re-probe (default 20).
/// - `remediation.max_completion_tokens`: cap on each model reply (default 800).
/// - `remediation.model_timeout_seconds`: timeout of one model call (default 30).
/// - `remediation.max_model_turns`: cap on model calls per incident (default 10).
public struct RemediationSettings: Sendable, Hashable {
    public var model: String
    public var baseURL: String
    public var settle: Duration
    public var maxCompletionTokens: Int
    public var modelTimeout: Duration
    public var maxModelTurns: Int

    public init(
        model: String = "gpt-4o-mini",
        baseURL: String = "https://api.openai.com/v1",
        settle: Duration = .seconds(20),
        maxCompletionTokens: Int = 800,
        modelTimeout: Duration = .seconds(30),
        maxModelTurns: Int = 10
    ) {
        self.model = model
        self.baseURL = baseURL
        self.settle = settle
        self.maxCompletionTokens = maxCompletionTokens
        self.modelTimeout = modelTimeout
        self.maxModelTurns = maxModelTurns
    }

    public struct Error: Swift.Error, Sendable, Hashable, CustomStringConvertible {
        public var keyPath: String
        public var message: String
        public var description: String { "\(keyPath): \(message)" }
    }

    /// Reads the `remediation:` subtree; every error names the key path.
    public init(json: JSONValue?) throws(Error) {
        self.init()
        guard let json, json != .null else { return }
        guard case .object(let object) = json else {
            throw Error(keyPath: "remediation", message: "must be a mapping")
        }
        let known: Set<String> = [
            "model", "base_url", "settle_seconds", "max_completion_tokens", "model_timeout_seconds",
            "max_model_turns",
        ]
        if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
            throw Error(keyPath: "remediation.\(unknown)", message: "unknown key")
        }
        func string(_ key: String) throws(Error) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let text) = value, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Error(keyPath: "remediation.\(key)", message: "must be a non-empty string")
            }
            return text
        }
        func number(_ key: String, _ range: ClosedRange<Double>) throws(Error) -> Double? {
            guard let value = object[key] else { return nil }
            guard case .number(let number) = value, range.contains(number) else {
                throw Error(
                    keyPath: "remediation.\(key)",
                    message: "must be a number from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return number
        }
        if let model = try string("model") { self.model = model }
        if let base = try string("base_url") {
            guard base.hasPrefix("https://") || base.hasPrefix("http://") else {
                throw Error(keyPath: "remediation.base_url", message: "must be an http(s) URL")
            }
            self.baseURL = base
        }
        if let settle = try number("settle_seconds", 0...3600) { self.settle = .milliseconds(Int64(settle * 1000)) }
        if let tokens = try number("max_completion_tokens", 16...16384) { maxCompletionTokens = Int(tokens) }
        if let timeout = try number("model_timeout_seconds", 1...600) {
            modelTimeout = .milliseconds(Int64(timeout * 1000))
        }
        if let turns = try number("max_model_turns", 1...100) { maxModelTurns = Int(turns) }
    }
}

/// The monitor's `IncidentResponder` for issue 5: builds the engine's parts from the incident context
/// (the store as journal, the outbox for notices and the page, the reprober, the monitor's transport) and
/// runs the engine. One instance serves the whole monitor, so its host leash spans all incidents.
public struct RemediationResponder: IncidentResponder {
    let settings: RemediationSettings
    let openAIKey: Secret?
    let logger: Logger
    let hosts = HostLeash()

    public init(settings: RemediationSettings, openAIKey: Secret?, logger: Logger) {
        self.settings = settings
        self.openAIKey = openAIKey
        self.logger = logger
    }

    public func incidentOpened(_ context: IncidentContext) async {
        let transport = HTTPTransportBridge(transport: context.transport)
        var agents: [String: AgentClient] = [:]
        if let url = context.host.url, let token = context.host.token {
            agents[context.host.name] = AgentClient(
                configuration: .init(baseURL: url, token: token.value),
                transport: transport
            )
        }
        let model = openAIKey.map { key in
            ChatCompletionsClient(
                configuration: .init(
                    baseURL: settings.baseURL,
                    model: settings.model,
                    apiKey: key.value,
                    maxCompletionTokens: settings.maxCompletionTokens,
                    timeout: settings.modelTimeout
                ),
                transport: transport
            )
        }
        let engine = RemediationEngine(
            policy: RemediationPolicy(
                maxRounds: context.maxRemediationRounds,
                maxModelTurns: settings.maxModelTurns,
                settle: settings.settle,
                alertUserID: context.alertUserID
            ),
            agents: agents,
            model: model,
            journal: MonitorStoreJournal(store: context.store, outbox: context.outbox),
            prober: ContextReprober(reprober: context.reprober),
            clock: ContinuousClock(),
            logger: logger,
            hosts: hosts
        )
        let result = context.result
        var symptom = result.reasons.joined(separator: "; ")
        if symptom.isEmpty { symptom = result.status.map { "HTTP \($0)" } ?? result.error?.description ?? "down" }
        let incident = RemediationIncident(
            id: String(context.incidentID),
            property: context.property.name,
            url: context.property.url,
            service: context.property.service ?? context.property.name,
            host: context.host.name,
            symptom: symptom
        )
        let outcome = await engine.respond(to: incident)
        logger.info(
            "remediation finished",
            metadata: ["incident.id": "\(context.incidentID)", "remediation.outcome": "\(outcome)"]
        )
    }
}

/// Re-probes through the monitor, which records the result (a healthy one closes the incident).
struct ContextReprober: RemediationProber {
    let reprober: any PropertyReprober

    func reprobe(_ incident: RemediationIncident) async -> ProbeVerdict {
        guard let result = await reprober.reprobe(property: incident.property) else {
            return ProbeVerdict(healthy: false, summary: "unknown property \(incident.property)")
        }
        var summary = result.health.rawValue
        if let status = result.status { summary += " (HTTP \(status), \(Int(result.timings.totalMs)) ms)" }
        if !result.reasons.isEmpty { summary += ": " + result.reasons.joined(separator: "; ") }
        return ProbeVerdict(healthy: result.health == .healthy, summary: summary)
    }
}

/// The monitor's libcurl `HTTPTransport` seen as a `RemediationTransport`.
public struct HTTPTransportBridge: RemediationTransport {
    let transport: any HTTPTransport

    public init(transport: any HTTPTransport) { self.transport = transport }

    public func send(
        _ request: RemediationHTTPRequest
    ) async throws(RemediationTransportError) -> RemediationHTTPResponse {
        let result = await transport.send(
            HTTPRequest(
                method: request.method,
                url: request.url,
                headers: request.headers.map { (name: $0.name, value: $0.value) },
                body: request.body,
                timeout: request.timeout,
                connectTimeout: request.connectTimeout,
                maxResponseBytes: request.maxResponseBytes,
                freshConnection: true
            )
        )
        if let error = result.error {
            let kind: RemediationTransportError.Kind =
                switch error.kind {
                case .dns: .dns
                case .connect: .connect
                case .tls: .tls
                case .timeout: .timeout
                case .responseTooLarge: .tooLarge
                case .invalidRequest: .invalidRequest
                case .cancelled, .other: .network
                }
            throw RemediationTransportError(kind: kind, code: error.curlCode, message: error.message)
        }
        guard let status = result.status else {
            throw RemediationTransportError(kind: .network, message: "no HTTP status")
        }
        return RemediationHTTPResponse(
            status: status,
            headers: Dictionary(
                result.headers.map { ($0.name.lowercased(), $0.value) },
                uniquingKeysWith: { _, last in last }
            ),
            body: result.body
        )
    }
}
