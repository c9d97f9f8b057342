import ActionKit
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The handlers behind the routes.
struct AgentRoutesHandlers: Sendable {
    let state: AgentState

    func register(on router: Router<AgentRequestContext>) {
        router.get("/healthz") { _, _ in
            JSONResponse.make(.ok, Health(status: "ok", version: AgentHost.version))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: state.metrics.registry.emitToBuffer()))
            )
        }
        router.get("/v1/actions") { _, _ in
            JSONResponse.make(.ok, state.provider.catalog())
        }
        router.get("/v1/audit") { request, _ in
            try audit(request)
        }
        router.post("/v1/actions/:id/run") { request, context in
            await run(request, context: context)
        }
    }

    struct Health: Codable {
        var status: String
        var version: String
    }

    struct AuditPage: Codable {
        var records: [AuditRecord]
    }

    func audit(_ request: Request) throws -> Response {
        var limit = 50
        let values = request.uri.queryParameters.getAll("limit")
        if values.count > 1 { throw AgentHTTPError.badRequest("query parameter 'limit' given more than once") }
        if let text = values.first {
            guard text.utf8.count <= 4, text.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int(text),
                (1...1000).contains(value)
            else {
                throw AgentHTTPError.badRequest("query parameter 'limit' must be an integer from 1 to 1000")
            }
            limit = value
        }
        return JSONResponse.make(.ok, AuditPage(records: state.auditLog.recent(limit: limit)))
    }

    /// `POST /v1/actions/{id}/run`: ``ActionDispatch`` runs and audits it (and the response
    /// carries `X-Audit-Id`).
    func run(_ request: Request, context: AgentRequestContext) async -> Response {
        let caller = ActionDispatch.Caller(
            requestID: context.id,
            clientIP: context.clientIP,
            method: request.method.rawValue,
            channel: .rest,
            logger: context.logger
        )
        let outcome = await ActionDispatch(state: state).run(
            action: AgentRoutes.namedAction(request.uri.path) ?? "",
            caller: caller
        ) { () async throws(AgentHTTPError) -> RunBody in
            do {
                return try await RunBody.parse(request, maxBytes: state.configuration.maxBodyBytes)
            } catch let error as AgentHTTPError {
                throw error
            } catch {
                throw .badRequest("request body could not be read")
            }
        }
        var response: Response
        switch outcome {
        case .ran(_, let result):
            response = JSONResponse.make(.ok, result)
        case .refused(let error, _):
            // Echoed text is cleaned of control and bidi characters; a not-run answer says so.
            let notRun = error.outcome == AgentAPI.ErrorBody.notRun
            response = JSONResponse.make(
                error.status,
                AgentAPI.ErrorBody(message: AuditText.clean(error.message), outcome: notRun ? error.outcome : nil),
                headers: error.headers
            )
        }
        if let auditID = outcome.auditID { response.headers[AgentRoutes.auditHeader] = auditID }
        return response
    }
}

/// The optional run body: `{"reason": string ≤ 500, "incident": string ≤ 64}`, nothing else.
struct RunBody: Sendable {
    var reason: String?
    var incident: String?

    static let maxReason = AgentAPI.RunRequest.maxReasonScalars
    static let maxIncident = 64

    static func parse(_ request: Request, maxBytes: Int) async throws -> RunBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw AgentHTTPError(.contentTooLarge, "request body larger than \(maxBytes) bytes", outcome: "too_large")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) { return RunBody() }
        let object: [String: JSONValue]
        do {
            object = try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        } catch {
            throw AgentHTTPError.badRequest(
                "request body must be a JSON object with optional string fields reason and incident"
            )
        }
        for key in object.keys.sorted() where key != "reason" && key != "incident" {
            throw AgentHTTPError.badRequest("request body: unknown key '\(String(key.unicodeScalars.prefix(64)))'")
        }
        func string(_ key: String, max: Int) throws -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let value)?:
                guard value.unicodeScalars.count <= max else {
                    throw AgentHTTPError.badRequest("request body: '\(key)' longer than \(max) characters")
                }
                return value
            default:
                throw AgentHTTPError.badRequest("request body: '\(key)' must be a string")
            }
        }
        return RunBody(reason: try string("reason", max: maxReason), incident: try string("incident", max: maxIncident))
    }
}
