#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One line of the audit log. Never holds the token.
///
/// A run writes two: its intent (`outcome: started`, durable before anything is spawned) and its
/// completion (same `audit_id`). Refused requests are counted and written as one summary per client
/// and window (`outcome: refused`, counts by reason in `refusals`).
public struct AuditRecord: Sendable, Hashable, Codable {
    public var auditID: String
    /// RFC 3339 UTC with milliseconds.
    public var time: String
    public var requestID: String
    public var clientIP: String
    public var method: String
    /// The action id as requested (bounded, may be hostile: it is data, never executed).
    public var action: String
    public var bundleID: String?
    public var bundleSHA256: String?
    public var reason: String?
    public var incident: String?
    /// `started` (a run's intent); a completion: `succeeded`, `failed`, `timed_out`, `killed`,
    /// `spawn_failed`, `preflight_failed`, or `unknown` (the agent stopped during the run); or
    /// `refused` (a summary of refusals).
    public var outcome: String
    public var status: Int
    public var exitCode: Int?
    public var signal: Int?
    public var timedOut: Bool?
    public var durationMs: Int?
    public var stdoutBytes: Int?
    public var stderrBytes: Int?
    public var message: String?
    /// A refusal summary's counts by reason: `unauthorized`, `not_found`, `busy`, `limited`,
    /// `rate_limited`, `bad_request`, `too_large`, `method_not_allowed`, ….
    public var refusals: [String: Int]?
    /// A refusal summary's last refusal (its `time` is the first).
    public var until: String?
    /// Which API the request came through; nil only in records written before channels existed.
    public var channel: AuditChannel?
    /// MCP only: the client's declared `clientInfo.name` (control characters removed, bounded).
    public var clientName: String?

    public init(
        auditID: String,
        time: String,
        requestID: String,
        clientIP: String,
        method: String,
        action: String,
        bundleID: String? = nil,
        bundleSHA256: String? = nil,
        reason: String? = nil,
        incident: String? = nil,
        outcome: String,
        status: Int,
        exitCode: Int? = nil,
        signal: Int? = nil,
        timedOut: Bool? = nil,
        durationMs: Int? = nil,
        stdoutBytes: Int? = nil,
        stderrBytes: Int? = nil,
        message: String? = nil,
        refusals: [String: Int]? = nil,
        until: String? = nil,
        channel: AuditChannel? = .rest,
        clientName: String? = nil
    ) {
        self.auditID = auditID
        self.time = time
        self.requestID = requestID
        self.clientIP = clientIP
        self.method = method
        self.action = action
        self.bundleID = bundleID
        self.bundleSHA256 = bundleSHA256
        self.reason = reason
        self.incident = incident
        self.outcome = outcome
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.durationMs = durationMs
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.message = message
        self.refusals = refusals
        self.until = until
        self.channel = channel
        self.clientName = clientName
    }

    /// Every string that came from a request, without control or bidi characters.
    public var cleaned: AuditRecord {
        var copy = self
        copy.requestID = AuditText.clean(requestID)
        copy.clientIP = AuditText.clean(clientIP)
        copy.method = AuditText.clean(method)
        copy.action = AuditText.clean(action)
        copy.reason = AuditText.clean(reason)
        copy.incident = AuditText.clean(incident)
        copy.message = AuditText.clean(message)
        copy.clientName = AuditText.clean(clientName)
        return copy
    }

    public enum Outcome {
        public static let started = "started"
        public static let unknown = "unknown"
        public static let refused = "refused"
    }

    enum CodingKeys: String, CodingKey {
        case auditID = "audit_id"
        case time
        case requestID = "request_id"
        case clientIP = "client_ip"
        case method, action
        case bundleID = "bundle_id"
        case bundleSHA256 = "bundle_sha256"
        case reason, incident, outcome, status
        case exitCode = "exit_code"
        case signal
        case timedOut = "timed_out"
        case durationMs = "duration_ms"
        case stdoutBytes = "stdout_bytes"
        case stderrBytes = "stderr_bytes"
        case message, refusals, until, channel
        case clientName = "client_name"
    }
}

/// The API a request that named an action came through.
public enum AuditChannel: String, Sendable, Hashable, Codable {
    case rest, mcp
}
