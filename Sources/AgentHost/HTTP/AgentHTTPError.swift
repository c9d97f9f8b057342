import ActionKit
import Foundation
public import HTTPTypes
public import Hummingbird
import NIOCore

/// An error that knows its status; rendered as `{"error":{"message":…}}`.
public struct AgentHTTPError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields
    /// The audit outcome for a refused action request.
    public var outcome: String

    public init(_ status: HTTPResponse.Status, _ message: String, outcome: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.outcome = outcome
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, AgentAPI.ErrorBody(message: message), headers: headers)
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
    static func badRequest(_ what: String) -> Self { AgentHTTPError(.badRequest, what, outcome: "bad_request") }
}

enum JSONResponse {
    static func make<T: Encodable>(_ status: HTTPResponse.Status, _ value: T, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"message":"encoding failed"}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
