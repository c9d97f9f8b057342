import ActionKit
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The handlers behind the routes.
struct AgentRoutesHandlers: Sendable {
    let state: AgentState

    func register(on router: Router<AgentRequestContext>) {
        router.get("/healthz") { _, _ in
            JSONResponse.make(.ok, Health(status: "ok", version: AgentHost.version))
        }
        router.get("/metrics") { _, _ in
            state.metrics.refresh(
                catalog: state.provider.catalog(),
                auditWriteFailures: state.auditLog.writeFailureCount
            )
            return Response(
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
            response = JSONResponse.problem(
                error.problem,
                error.status,
                AuditText.clean(error.message),
                outcome: notRun ? error.outcome : nil,
                headers: error.headers
            )
        }
        if let auditID = outcome.auditID { response.headers[AgentRoutes.auditHeader] = auditID }
        return response
    }
}
