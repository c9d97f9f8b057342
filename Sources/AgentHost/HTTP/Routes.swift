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

    /// `POST /v1/actions/{id}/run`. Audits every outcome itself (and sets `X-Audit-Id`): a run's
    /// intent is durable before anything is spawned and its completion after; refusals are counted
    /// into their client's summary.
    func run(_ request: Request, context: AgentRequestContext) async -> Response {
        let rawID = AgentRoutes.namedAction(request.uri.path) ?? ""
        var record = state.baseRecord(request: request, context: context, action: rawID)

        func refuse(_ error: AgentHTTPError) -> Response {
            record.outcome = error.outcome
            record.message = error.message
            record.status = Int(error.status.code)
            if ActionID.isValid(rawID), state.provider.runnableAction(id: rawID) != nil {
                state.metrics.actionRefused(action: rawID, outcome: error.outcome)
            }
            try? state.auditLog.append(record)
            var response = JSONResponse.make(
                error.status,
                AgentAPI.ErrorBody(message: AuditText.clean(error.message)),
                headers: error.headers
            )
            response.headers[AgentRoutes.auditHeader] = record.auditID
            return response
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

        // Write-ahead: nothing is spawned unless its intent is durable.
        record.outcome = AuditRecord.Outcome.started
        do {
            try state.auditLog.appendRun(record)
        } catch {
            logger.critical(
                "not running: the audit log cannot record the intent",
                metadata: ["audit.error": "\(error)"]
            )
            state.metrics.actionRefused(action: spec.id, outcome: AgentAPI.ErrorBody.notRun)
            // Counted with the refusals: its summary is written once the log accepts writes again.
            record.outcome = AgentAPI.ErrorBody.notRun
            record.status = 503
            try? state.auditLog.append(record)
            var response = JSONResponse.make(
                .serviceUnavailable,
                AgentAPI.ErrorBody(
                    message: "not run: the audit log could not record the intent",
                    outcome: AgentAPI.ErrorBody.notRun
                )
            )
            response.headers[AgentRoutes.auditHeader] = record.auditID
            return response
        }
        logger.notice(
            "running action",
            metadata: [
                "client.ip": "\(context.clientIP)", "bundle.id": "\(action.bundle.id)",
                "incident": "\(AuditText.clean(body.incident ?? ""))",
            ]
        )

        let (result, outcome) = await execute(spec, runID: record.auditID)
        let stdoutTail = Array(result.stdoutTail)
        let stderrTail = Array(result.stderrTail)
        var interpretation: JSONValue?
        if result.spawnError == nil {
            // The reader may block (its helper process): never on the cooperative pool.
            interpretation = await BlockingThread.run(name: "zumik-reader") {
                action.interpret(result.exitCode, result.signal, stdoutTail, stderrTail)
            }
        }
        state.metrics.actionRun(action: spec.id, outcome: outcome, durationMs: result.durationMs)
        logger.notice(
            "action finished",
            metadata: [
                "action.outcome": "\(outcome)", "action.exit_code": "\(result.exitCode.map(String.init) ?? "-")",
                "action.signal": "\(result.signal.map(String.init) ?? "-")",
                "action.duration_ms": "\(result.durationMs)",
            ]
        )

        record.time = AuditLog.timestamp()
        record.outcome = outcome
        record.status = 200
        record.exitCode = result.exitCode
        record.signal = result.signal
        record.timedOut = result.timedOut
        record.durationMs = result.durationMs
        record.stdoutBytes = result.stdoutBytes
        record.stderrBytes = result.stderrBytes
        record.message = result.spawnError
        do {
            try state.auditLog.appendRun(record, keepIfFailed: true)
        } catch {
            // The action ran: answer with its result; the completion is written with the next record.
            logger.critical("audit log: completion kept for the next write", metadata: ["audit.error": "\(error)"])
        }
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
        var response = JSONResponse.make(.ok, payload)
        response.headers[AgentRoutes.auditHeader] = record.auditID
        return response
    }

    /// The preflight (if any) and then the main argv, within one timeout budget.
    func execute(_ spec: ActionSpec, runID: String) async -> (CommandResult, String) {
        let start = ContinuousClock.now
        let total = Duration.seconds(spec.timeoutS)
        let grace = Duration.seconds(spec.killGraceS)
        if let preflight = spec.preflightArgv, !preflight.isEmpty {
            let result = await state.runner.run(
                argv: preflight,
                limits: CommandLimits(timeout: total, killGrace: grace, maxOutputBytes: spec.maxOutputBytes),
                runID: runID
            )
            guard result.outcome == "succeeded" else {
                return (result, result.spawnError == nil && !result.timedOut ? "preflight_failed" : result.outcome)
            }
        }
        let remaining = total - start.duration(to: .now)
        let budget = remaining > .zero ? remaining : .milliseconds(1)
        let result = await state.runner.run(
            argv: spec.argv,
            limits: CommandLimits(timeout: budget, killGrace: grace, maxOutputBytes: spec.maxOutputBytes),
            runID: runID
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

/// The optional run body: `{"reason": string ≤ 500, "incident": string ≤ 64}`, nothing else.
struct RunBody: Sendable {
    var reason: String?
    var incident: String?

    static let maxReason = 500
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
