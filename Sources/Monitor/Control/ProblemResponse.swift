public import ActionKit
import Foundation
public import HTTPTypes
public import Hummingbird
import Logging
import NIOCore

/// A refusal of the control API, answered as an RFC 9457 problem document (`application/problem+json`,
/// `AgentAPI.ErrorBody`: `type`, `title`, `status`, `detail`, and the `{"error":{"message":…}}` member the
/// API always had).
public struct ControlProblem: HTTPResponseError, Sendable {
    public var kind: ProblemKind
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields

    public init(_ kind: ProblemKind, _ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.kind = kind
        self.status = status
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = AgentAPI.ErrorBody(kind, status: Int(status.code), message: message)
        var fields = headers
        fields[.contentType] = ProblemKind.mediaType
        return Response(
            status: status,
            headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body)))
        )
    }
}

/// Turns every error of the control API (the router's 404 and 405, the bearer check's 401, a handler's
/// 400, anything unexpected) into a ``ControlProblem``.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let problem as ControlProblem {
            throw problem
        } catch let error as HTTPError {
            let kind: ProblemKind =
                switch error.status.code {
                case 401: .badToken
                case 404: .notFound
                case 405: .methodNotAllowed
                case 413: .bodyTooLarge
                case 500...: .internalError
                default: .badRequest
                }
            let message = error.body ?? (error.status == .notFound ? "no such route" : error.status.reasonPhrase)
            throw ControlProblem(kind, error.status, message, headers: error.headers)
        } catch let error as any HTTPResponseError {
            throw ControlProblem(
                error.status.code >= 500 ? .internalError : .badRequest,
                error.status,
                error.status.reasonPhrase
            )
        } catch {
            context.logger.error("control request failed", metadata: ["error": "\(error)"])
            throw ControlProblem(.internalError, .internalServerError, "the monitor could not complete the request")
        }
    }
}
