public import ActionKit
public import HTTPTypes
public import Hummingbird
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An error that knows its status; rendered as an RFC 9457 problem document of its `problem` kind that keeps
/// `{"error":{"message":…}}`.
public struct AgentHTTPError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields
    /// The audit outcome for a refused action request.
    public var outcome: String
    /// The RFC 9457 `type` of the answer.
    public var problem: ProblemKind

    public init(
        _ status: HTTPResponse.Status,
        _ message: String,
        outcome: String,
        problem: ProblemKind? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.message = message
        self.outcome = outcome
        self.problem = problem ?? Self.problem(outcome: outcome, status: status)
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.problem(problem, status, message, headers: headers)
    }

    /// The problem kind of an outcome (and, for the generic ones, of the status).
    static func problem(outcome: String, status: HTTPResponse.Status) -> ProblemKind {
        switch outcome {
        case "unauthorized": .badToken
        case "rate_limited": .rateLimited
        case "limited": .cooldown
        case "busy": .lockHeld
        case "too_large": .bodyTooLarge
        case "method_not_allowed": .methodNotAllowed
        case "not_found": .notFound
        case AgentAPI.ErrorBody.notRun: .notRun
        default: status.code >= 500 ? .internalError : .badRequest
        }
    }

    static func unauthorized() -> Self {
        AgentHTTPError(
            .unauthorized,
            "missing or invalid bearer token",
            outcome: "unauthorized",
            headers: [.wwwAuthenticate: #"Bearer realm="zumik-ops-agent""#]
        )
    }

    static func notFound(_ what: String) -> Self { AgentHTTPError(.notFound, what, outcome: "not_found") }
    static func unknownAction() -> Self {
        AgentHTTPError(.notFound, "unknown action", outcome: "not_found", problem: .unknownAction)
    }
    static func badRequest(_ what: String) -> Self { AgentHTTPError(.badRequest, what, outcome: "bad_request") }
}

enum JSONResponse {
    /// An RFC 9457 problem document (`application/problem+json`) that keeps `{"error":{"message":…}}`.
    static func problem(
        _ kind: ProblemKind,
        _ status: HTTPResponse.Status,
        _ message: String,
        outcome: String? = nil,
        headers: HTTPFields = [:]
    ) -> Response {
        var response = make(
            status,
            AgentAPI.ErrorBody(kind, status: Int(status.code), message: message, outcome: outcome),
            headers: headers
        )
        response.headers[.contentType] = ProblemKind.mediaType
        return response
    }

    static func make<T: Encodable>(_ status: HTTPResponse.Status, _ value: T, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"message":"encoding failed"}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
