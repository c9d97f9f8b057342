import ActionKit
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore

/// The routes the agent serves, for 405s, metrics labels and audit.
enum AgentRoutes {
    /// The label of a path (bounded cardinality) and the methods it allows, or nil if unknown.
    static func match(_ path: String) -> (label: String, methods: [HTTPRequest.Method])? {
        switch path {
        case "/healthz": return ("/healthz", [.get])
        case "/metrics": return ("/metrics", [.get])
        case "/v1/actions": return ("/v1/actions", [.get])
        case "/v1/audit": return ("/v1/audit", [.get])
        case MCPEndpoint.path: return (MCPEndpoint.path, [.post])
        default:
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 5, parts[0].isEmpty, parts[1] == "v1", parts[2] == "actions", !parts[3].isEmpty,
                parts[4] == "run"
            {
                return ("/v1/actions/{id}/run", [.post])
            }
            return nil
        }
    }

    /// The action a request names, if it does (`/v1/actions/<something>…`), bounded in length.
    static func namedAction(_ path: String) -> String? {
        let prefix = "/v1/actions/"
        guard path.hasPrefix(prefix) else { return nil }
        var rest = Substring(path.dropFirst(prefix.count))
        if rest.hasSuffix("/run") { rest = rest.dropLast(4) }
        guard !rest.isEmpty else { return nil }
        return String(rest.unicodeScalars.prefix(128))
    }

    static let auditHeader = HTTPField.Name("X-Audit-Id")!
    static let requestIDHeader = HTTPField.Name("X-Request-Id")!
}

/// Outermost: resolves the client IP, turns every error into a JSON body, audits requests that
/// name an action but were refused before reaching the run handler, adds `X-Request-Id`, and
/// counts requests.
struct EnvelopeMiddleware: RouterMiddleware {
    typealias Context = AgentRequestContext
    let state: AgentState

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.clientIP = AgentState.clientIP(
            peer: context.remoteAddress?.ipAddress,
            viaUnixSocket: context.viaUnixSocket,
            headers: request.headers
        )
        let route = AgentRoutes.match(request.uri.path)?.label ?? "unmatched"
        var response: Response
        var refusal: AgentHTTPError?
        do {
            response = try await next(request, context)
        } catch let error as AgentHTTPError {
            refusal = error
            response = JSONResponse.problem(error.problem, error.status, error.message, headers: error.headers)
        } catch is NIOTooManyBytesError {
            let error = AgentHTTPError(.contentTooLarge, "request body too large", outcome: "too_large")
            refusal = error
            response = JSONResponse.problem(error.problem, error.status, error.message)
        } catch let error as HTTPError {
            let outcome = error.status == .notFound ? "not_found" : "bad_request"
            let message = error.status == .notFound ? "no such route" : (error.body ?? error.status.reasonPhrase)
            let refused = AgentHTTPError(error.status, message, outcome: outcome)
            refusal = refused
            response = JSONResponse.problem(refused.problem, error.status, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            let refused = AgentHTTPError(error.status, error.status.reasonPhrase, outcome: "bad_request")
            refusal = refused
            response = JSONResponse.problem(refused.problem, error.status, refused.message)
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            response = JSONResponse.problem(
                .internalError,
                .serviceUnavailable,
                "the agent could not complete the request"
            )
        }
        if let action = AgentRoutes.namedAction(request.uri.path), response.headers[AgentRoutes.auditHeader] == nil {
            var record = state.baseRecord(request: request, context: context, action: action)
            record.outcome = refusal?.outcome ?? Self.outcome(for: response.status)
            record.status = Int(response.status.code)
            record.message = refusal?.message
            do {
                try state.auditLog.append(record)
                response.headers[AgentRoutes.auditHeader] = record.auditID
            } catch {
                context.logger.critical("audit log write failed", metadata: ["audit.path": "\(state.auditLog.path)"])
                response = JSONResponse.problem(.auditUnavailable, .serviceUnavailable, "audit log unavailable")
            }
        }
        response.headers[AgentRoutes.requestIDHeader] = context.id
        state.metrics.request(
            route: route,
            method: request.method.rawValue,
            status: Int(response.status.code),
            since: start
        )
        return response
    }

    static func outcome(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 401: "unauthorized"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "busy"
        case 413: "too_large"
        case 429: "rate_limited"
        case 400..<500: "bad_request"
        default: "refused"
        }
    }
}

/// 405 with `Allow` for a known path and a method it does not serve.
struct MethodGuardMiddleware: RouterMiddleware {
    typealias Context = AgentRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let route = AgentRoutes.match(request.uri.path), !route.methods.contains(request.method) {
            throw AgentHTTPError(
                .methodNotAllowed,
                "method \(request.method.rawValue) not allowed on \(route.label)",
                outcome: "method_not_allowed",
                headers: [.allow: route.methods.map(\.rawValue).joined(separator: ", ")]
            )
        }
        return try await next(request, context)
    }
}

/// A check on every route but `/healthz` (which stays open for probes), holding the agent's state.
protocol GuardMiddleware: RouterMiddleware where Context == AgentRequestContext {
    typealias Next = (Request, Context) async throws -> Response
    var state: AgentState { get }
    /// `handle` for every route but `/healthz`.
    func check(_ request: Request, context: Context, next: Next) async throws -> Response
}

extension GuardMiddleware {
    func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        return try await check(request, context: context, next: next)
    }
}

/// Per-client token bucket; a 401 further down costs the client extra tokens.
struct RateLimitMiddleware: GuardMiddleware {
    let state: AgentState

    func check(_ request: Request, context: Context, next: Next) async throws -> Response {
        if let retryAfter = state.rateLimiter.take(client: context.clientIP) {
            throw AgentHTTPError(
                .tooManyRequests,
                "rate limit exceeded for this client",
                outcome: "rate_limited",
                headers: [.retryAfter: "\(retryAfter)"]
            )
        }
        do {
            return try await next(request, context)
        } catch let error as AgentHTTPError where error.status == .unauthorized {
            state.rateLimiter.penalize(client: context.clientIP)
            throw error
        }
    }
}

/// `Authorization: Bearer <token>` on every route but `/healthz`, compared in constant time. The metrics
/// token (when configured) passes for `GET /metrics` only; anywhere else it is refused like a wrong token.
struct BearerAuthMiddleware: GuardMiddleware {
    let state: AgentState

    func check(_ request: Request, context: Context, next: Next) async throws -> Response {
        let values = request.headers[values: .authorization]
        guard values.count == 1 else { throw AgentHTTPError.unauthorized() }
        if state.tokenMatches(header: values[0]) { return try await next(request, context) }
        if request.method == .get, request.uri.path == "/metrics", state.metricsTokenMatches(header: values[0]) {
            return try await next(request, context)
        }
        throw AgentHTTPError.unauthorized()
    }
}
