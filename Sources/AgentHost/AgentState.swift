import ActionKit
import HTTPTypes
import Hummingbird
import Logging
import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything the request handlers share: the actions, the limits, the audit log, the metrics.
final class AgentState: Sendable {
    let configuration: AgentConfiguration
    let provider: any ActionProvider
    let auditLog: AuditLog
    let runner: ActionRunner
    let locks = LockTable()
    /// Returns freed heap to the system once no run is in flight.
    let idleTrim = IdleTrim()
    let runLimiter: RunLimiter
    let rateLimiter: ClientRateLimiter
    let metrics: AgentMetrics
    let logger: Logger
    private let expectedAuthorization: [UInt8]
    private let metricsAuthorization: [UInt8]?

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
        self.metricsAuthorization = configuration.metricsToken.map { Array("Bearer \($0)".utf8) }
    }

    func tokenMatches(header: String) -> Bool {
        ConstantTime.equal(Array(header.utf8), expectedAuthorization)
    }

    /// The read-only scrape credential (`OPS_AGENT_METRICS_TOKEN`), good for `GET /metrics` only.
    func metricsTokenMatches(header: String) -> Bool {
        guard let metricsAuthorization else { return false }
        return ConstantTime.equal(Array(header.utf8), metricsAuthorization)
    }

    /// The client a request is counted and audited as. Over TCP: the peer address, always
    /// (forwarding headers are ignored: any local process could send them). On the Unix socket,
    /// which only nginx can reach: the right-most `X-Forwarded-For` address nginx set, else `unix`.
    static func clientIP(peer: String?, viaUnixSocket: Bool, headers: HTTPFields) -> String {
        guard viaUnixSocket else { return peer ?? "unknown" }
        let forwarded = headers[values: HTTPField.Name("X-Forwarded-For")!]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces }
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
        return "a_" + Hex.string(bytes)
    }
}
