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

    /// `POST /v1/actions/{id}/run`. Audits every outcome itself (and sets `X-Audit-Id`).
    func run(_ request: Request, context: AgentRequestContext) async -> Response {
        let rawID = AgentRoutes.namedAction(request.uri.path) ?? ""
        var record = state.baseRecord(request: request, context: context, action: rawID)

        func finish(_ status: HTTPResponse.Status, _ response: Response) -> Response {
            var response = response
            record.status = Int(status.code)
            do {
                try state.auditLog.append(record)
            } catch {
                state.logger.critical("audit log write failed", metadata: ["audit.path": "\(state.auditLog.path)"])
                return JSONResponse.make(.serviceUnavailable, AgentAPI.ErrorBody(message: "audit log unavailable"))
            }
            response.headers[AgentRoutes.auditHeader] = record.auditID
            return response
        }
        func refuse(_ error: AgentHTTPError) -> Response {
            record.outcome = error.outcome
            record.message = error.message
            if ActionID.isValid(rawID), state.provider.runnableAction(id: rawID) != nil {
                state.metrics.actionRefused(action: rawID, outcome: error.outcome)
            }
            return finish(
                error.status,
                JSONResponse.make(error.status, AgentAPI.ErrorBody(message: error.message), headers: error.headers)
            )
        }

        guard ActionID.isValid(rawID), let action = state.provider.runnableAction(id: rawID) else {
            return refuse(.notFound("unknown action"))
        }
        record.bundleID = action.bundle.id
        record.bundleSHA256 = action.bundle.sha256

        let body: RunBody
        do {
            body = try await RunBody.parse(request, maxBytes: state.configuration.maxBodyBytes)
        } catch let error as AgentHTTPError {
            return refuse(error)
        } catch {
            return refuse(.badRequest("request body could not be read"))
        }
        record.reason = body.reason
        record.incident = body.incident

        let spec = action.spec
        guard state.auditLog.isHealthy else {
            state.logger.critical("refusing to run: the audit log failed", metadata: ["action.id": "\(spec.id)"])
            return refuse(AgentHTTPError(.serviceUnavailable, "audit log unavailable", outcome: "audit_unavailable"))
        }
        guard state.locks.tryAcquire(spec.lock) else {
            return refuse(AgentHTTPError(.conflict, "lock '\(spec.lock)' is held by a running action", outcome: "busy"))
        }
        defer { state.locks.release(spec.lock) }
        if case .refused(let retryAfter, let rule) = state.runLimiter.admit(actionID: spec.id, limits: spec.limits) {
            return refuse(
                AgentHTTPError(
                    .tooManyRequests,
                    "action limit reached (\(rule)); retry after \(retryAfter) s",
                    outcome: "limited",
                    headers: [.retryAfter: "\(retryAfter)"]
                )
            )
        }

        var logger = context.logger
        logger[metadataKey: "action.id"] = "\(spec.id)"
        logger[metadataKey: "audit.id"] = "\(record.auditID)"
        logger.notice(
            "running action",
            metadata: [
                "client.ip": "\(context.clientIP)", "bundle.id": "\(action.bundle.id)",
                "incident": "\(body.incident ?? "")",
            ]
        )

        let (result, outcome) = await execute(spec)
        let stdoutTail = Array(result.stdoutTail)
        let stderrTail = Array(result.stderrTail)
        let interpretation =
            result.spawnError == nil ? action.interpret(result.exitCode, result.signal, stdoutTail, stderrTail) : nil
        state.metrics.actionRun(action: spec.id, outcome: outcome, durationMs: result.durationMs)
        logger.notice(
            "action finished",
            metadata: [
                "action.outcome": "\(outcome)", "action.exit_code": "\(result.exitCode.map(String.init) ?? "-")",
                "action.signal": "\(result.signal.map(String.init) ?? "-")",
                "action.duration_ms": "\(result.durationMs)",
            ]
        )

        record.outcome = outcome
        record.exitCode = result.exitCode
        record.signal = result.signal
        record.timedOut = result.timedOut
        record.durationMs = result.durationMs
        record.stdoutBytes = result.stdoutBytes
        record.stderrBytes = result.stderrBytes
        record.message = result.spawnError
        let payload = AgentAPI.RunResult(
            action: spec.id,
            auditID: record.auditID,
            outcome: outcome,
            exitCode: result.exitCode,
            signal: result.signal,
            timedOut: result.timedOut,
            durationMs: result.durationMs,
            stdoutTail: String(decoding: stdoutTail, as: UTF8.self),
            stderrTail: result.spawnError.map { "\($0)\n" } ?? String(decoding: stderrTail, as: UTF8.self),
            stdoutBytes: result.stdoutBytes,
            stderrBytes: result.stderrBytes,
            truncated: result.truncated,
            interpretation: interpretation
        )
        return finish(.ok, JSONResponse.make(.ok, payload))
    }

    /// The preflight (if any) and then the main argv, within one timeout budget.
    func execute(_ spec: ActionSpec) async -> (CommandResult, String) {
        let start = ContinuousClock.now
        let total = Duration.seconds(spec.timeoutS)
        let grace = Duration.seconds(spec.killGraceS)
        if let preflight = spec.preflightArgv, !preflight.isEmpty {
            let result = await state.runner.run(
                argv: preflight,
                limits: CommandLimits(timeout: total, killGrace: grace, maxOutputBytes: spec.maxOutputBytes)
            )
            guard result.outcome == "succeeded" else {
                return (result, result.spawnError == nil && !result.timedOut ? "preflight_failed" : result.outcome)
            }
        }
        let remaining = total - start.duration(to: .now)
        let budget = remaining > .zero ? remaining : .milliseconds(1)
        let result = await state.runner.run(
            argv: spec.argv,
            limits: CommandLimits(timeout: budget, killGrace: grace, maxOutputBytes: spec.maxOutputBytes)
        )
        var adjusted = result
        adjusted.durationMs = Self.milliseconds(start.duration(to: .now))
        return (adjusted, result.outcome)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
