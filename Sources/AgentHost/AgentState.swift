import ActionKit
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
public import Prometheus
import ServerSupport

/// Everything the request handlers share: the actions, the limits, the audit log, the metrics.
final class AgentState: Sendable {
    let configuration: AgentConfiguration
    let provider: any ActionProvider
    let auditLog: AuditLog
    let runner: ActionRunner
    let locks = LockTable()
    let runLimiter: RunLimiter
    let rateLimiter: ClientRateLimiter
    let metrics: AgentMetrics
    let logger: Logger
    private let expectedAuthorization: [UInt8]

    init(
        configuration: AgentConfiguration,
        provider: any ActionProvider,
        auditLog: AuditLog,
        metrics: AgentMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant
    ) {
        self.configuration = configuration
        self.provider = provider
        self.auditLog = auditLog
        self.runner = ActionRunner(dockerHost: configuration.dockerHost)
        self.runLimiter = RunLimiter(now: now)
        self.rateLimiter = ClientRateLimiter(configuration: configuration.rateLimit, now: now)
        self.metrics = metrics
        self.logger = logger
        self.expectedAuthorization = Array("Bearer \(configuration.token)".utf8)
    }

    func tokenMatches(header: String) -> Bool {
        ConstantTime.equal(Array(header.utf8), expectedAuthorization)
    }

    /// The client a request is counted and audited as. Over TCP: the peer address, always
    /// (forwarding headers are ignored: any local process could send them). On the Unix socket,
    /// which only nginx can reach: the right-most `X-Forwarded-For` address nginx set, else `unix`.
    static func clientIP(peer: String?, viaUnixSocket: Bool, headers: HTTPFields) -> String {
        guard viaUnixSocket else { return peer ?? "unknown" }
        let forwarded = headers[values: HTTPField.Name("X-Forwarded-For")!]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if let last = forwarded.last, ListenAddress.isIPLiteral(last) { return last }
        return "unix"
    }

    func baseRecord(request: Request, context: AgentRequestContext, action: String) -> AuditRecord {
        AuditRecord(
            auditID: Self.newAuditID(),
            time: AuditLog.timestamp(),
            requestID: context.id,
            clientIP: context.clientIP,
            method: request.method.rawValue,
            action: action,
            outcome: "",
            status: 0
        )
    }

    static func newAuditID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "a_" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// The agent's metrics, through swift-metrics into a Prometheus registry.
public struct AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { label, dimensions in
            (
                label.replacingOccurrences(of: ".", with: "_"),
                dimensions.map { ($0.0.replacingOccurrences(of: ".", with: "_"), $0.1) }
            )
        }
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
            .seconds(15), .seconds(60), .seconds(300),
        ]
        self.factory = factory
    }

    func request(route: String, method: String, status: Int, since start: ContinuousClock.Instant) {
        Counter(
            label: "zumik.agent.http.requests.total",
            dimensions: [("route", route), ("method", method), ("status", "\(status)")],
            factory: factory
        ).increment()
        Metrics.Timer(
            label: "zumik.agent.http.request.duration.seconds",
            dimensions: [("route", route)],
            factory: factory
        )
        .recordInterval(since: start)
    }

    func actionRun(action: String, outcome: String, durationMs: Int) {
        Counter(
            label: "zumik.agent.action.runs.total",
            dimensions: [("action", action), ("outcome", outcome)],
            factory: factory
        )
        .increment()
        Metrics.Timer(label: "zumik.agent.action.duration.seconds", dimensions: [("action", action)], factory: factory)
            .recordMilliseconds(durationMs)
    }

    func actionRefused(action: String, outcome: String) {
        Counter(
            label: "zumik.agent.action.refusals.total",
            dimensions: [("action", action), ("outcome", outcome)],
            factory: factory
        )
        .increment()
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = start.duration(to: .now).components
        recordNanoseconds(Int64(seconds) * 1_000_000_000 + Int64(attoseconds / 1_000_000_000))
    }
}
