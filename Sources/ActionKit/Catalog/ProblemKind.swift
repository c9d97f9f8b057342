/// The kinds of refusal both HTTP APIs answer, as RFC 9457 problem details
/// (`application/problem+json`): each has its own `type` URI, so a client tells a per-client limit from an
/// action's cooldown or a held lock without reading the message. `docs/agent.md` and `config/README.md` list
/// them; `openapi/ops-agent.yaml` and `openapi/monitor.yaml` describe the body.
public enum ProblemKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// 401: the bearer token is missing or wrong (or a metrics token used outside `/metrics`).
    case badToken = "bad-token"
    /// 429: the client's token bucket is empty (agent; per client IP).
    case rateLimited = "rate-limited"
    /// 429: the action's cooldown or run window is spent (agent).
    case cooldown
    /// 409: the action's lock is held by a running action (agent).
    case lockHeld = "lock-held"
    /// 404: no action with this id is loaded (agent).
    case unknownAction = "unknown-action"
    /// 404: no property with this name is configured (monitor).
    case unknownProperty = "unknown-property"
    /// 404: no such route.
    case notFound = "not-found"
    /// 405: the route does not serve this method.
    case methodNotAllowed = "method-not-allowed"
    /// 413: the request body is over the limit.
    case bodyTooLarge = "body-too-large"
    /// 400: the request (body, query, headers) is malformed or invalid.
    case badRequest = "bad-request"
    /// 503: the audit log could not record the run's intent; nothing was started (agent).
    case notRun = "not-run"
    /// 503: the audit log could not record the request (agent).
    case auditUnavailable = "audit-unavailable"
    /// 500/503: the server could not complete the request.
    case internalError = "internal-error"

    /// Where every `type` URI starts.
    public static let typePrefix = "https://zumik.ai/problems/"

    /// The `type` URI: `https://zumik.ai/problems/<kind>`.
    public var type: String { Self.typePrefix + rawValue }

    /// The kind a `type` URI names, when it is one of ours.
    public init?(type: String) {
        guard type.hasPrefix(Self.typePrefix) else { return nil }
        self.init(rawValue: String(type.dropFirst(Self.typePrefix.count)))
    }

    /// The short, fixed summary of the kind (RFC 9457 `title`).
    public var title: String {
        switch self {
        case .badToken: "Missing or invalid bearer token"
        case .rateLimited: "Rate limit exceeded for this client"
        case .cooldown: "Action limit reached"
        case .lockHeld: "Lock held by a running action"
        case .unknownAction: "Unknown action"
        case .unknownProperty: "Unknown property"
        case .notFound: "No such route"
        case .methodNotAllowed: "Method not allowed"
        case .bodyTooLarge: "Request body too large"
        case .badRequest: "Bad request"
        case .notRun: "Not run"
        case .auditUnavailable: "Audit log unavailable"
        case .internalError: "Request not completed"
        }
    }

    /// The media type of a problem document.
    public static let mediaType = "application/problem+json"
}
