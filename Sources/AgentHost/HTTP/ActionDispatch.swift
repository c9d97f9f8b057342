import ActionKit
import HTTPTypes
import Logging

/// The one way an action runs, whichever channel asked (REST `POST /v1/actions/{id}/run` or MCP
/// `tools/call`): catalog lookup, the caller's arguments, the audit log's health, the action's
/// lock, its cooldown/window, the runner, the reader, and exactly one audit record.
///
/// Authentication and the per-client rate limit are the router's middleware and apply to both
/// channels before a request gets here.
struct ActionDispatch: Sendable {
    let state: AgentState

    /// Who asks, as the audit record names them.
    struct Caller: Sendable {
        var requestID: String
        var clientIP: String
        /// The HTTP method of the request (`POST`).
        var method: String
        var channel: AuditChannel
        /// MCP only: the client's declared `clientInfo.name`, already cleaned and bounded.
        var clientName: String?
        var logger: Logger
    }

    /// What became of the request. Either way it is audited under `auditID`, unless the audit log
    /// itself failed (then `auditID` is nil and the refusal says so).
    enum RunOutcome: Sendable {
        case ran(action: AgentAPI.CatalogAction, result: AgentAPI.RunResult)
        case refused(AgentHTTPError, auditID: String?)

        var auditID: String? {
            switch self {
            case .ran(_, let result): result.auditID
            case .refused(_, let auditID): auditID
            }
        }
    }

    /// Runs action `rawID` for `caller`. `arguments` is read only once the action is known
    /// (an unknown action is a 404 before a bad body is a 400); it throws the refusal to audit.
    /// `permitted` is a channel's own narrowing (MCP's allowlist); it can only refuse more.
    func run(
        action rawID: String,
        caller: Caller,
        permitted: (RunnableAction) -> AgentHTTPError? = { _ in nil },
        arguments: () async throws(AgentHTTPError) -> RunBody
    ) async -> RunOutcome {
        var record = AuditRecord(
            auditID: AgentState.newAuditID(),
            time: AuditLog.timestamp(),
            requestID: caller.requestID,
            clientIP: caller.clientIP,
            method: caller.method,
            action: rawID,
            outcome: "",
            status: 0,
            channel: caller.channel,
            clientName: caller.clientName
        )
        func finish(_ status: HTTPResponse.Status) -> String? {
            record.status = Int(status.code)
            do {
                try state.auditLog.append(record)
            } catch {
                state.logger.critical("audit log write failed", metadata: ["audit.path": "\(state.auditLog.path)"])
                return nil
            }
            return record.auditID
        }
        func refuse(_ error: AgentHTTPError) -> RunOutcome {
            record.outcome = error.outcome
            record.message = error.message
            if ActionID.isValid(rawID), state.provider.runnableAction(id: rawID) != nil {
                state.metrics.actionRefused(action: rawID, outcome: error.outcome)
            }
            guard let auditID = finish(error.status) else { return .refused(Self.auditUnavailable, auditID: nil) }
            return .refused(error, auditID: auditID)
        }

        guard ActionID.isValid(rawID), let action = state.provider.runnableAction(id: rawID) else {
            return refuse(.notFound("unknown action"))
        }
        record.bundleID = action.bundle.id
        record.bundleSHA256 = action.bundle.sha256
        if let refusal = permitted(action) { return refuse(refusal) }

        let body: RunBody
        do {
            body = try await arguments()
        } catch {
            return refuse(error)
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

        var logger = caller.logger
        logger[metadataKey: "action.id"] = "\(spec.id)"
        logger[metadataKey: "audit.id"] = "\(record.auditID)"
        logger.notice(
            "running action",
            metadata: [
                "client.ip": "\(caller.clientIP)", "bundle.id": "\(action.bundle.id)",
                "incident": "\(body.incident ?? "")", "channel": "\(caller.channel.rawValue)",
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
        guard finish(.ok) != nil else { return .refused(Self.auditUnavailable, auditID: nil) }
        return .ran(action: AgentAPI.CatalogAction(spec: spec, bundle: action.bundle), result: payload)
    }

    static let auditUnavailable = AgentHTTPError(
        .serviceUnavailable,
        "audit log unavailable",
        outcome: "audit_unavailable"
    )

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
