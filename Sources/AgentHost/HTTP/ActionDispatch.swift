import ActionKit
import HTTPTypes
import Logging

/// The one way an action runs, whichever channel asked (REST `POST /v1/actions/{id}/run` or MCP
/// `tools/call`): catalog lookup, the caller's arguments, the action's lock, its cooldown/window,
/// the durable intent record, the runner, the reader (in its helper process), the completion record.
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

    /// What became of the request. Either way it is audited under `auditID`: a run by its intent and
    /// completion records, a refusal in its client's summary.
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
    ///
    /// A run's intent is durable before anything is spawned and its completion after; refusals are
    /// counted into their client's summary (``AuditLog/append(_:)``).
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
        func refuse(_ error: AgentHTTPError) -> RunOutcome {
            record.outcome = error.outcome
            record.message = error.message
            record.status = Int(error.status.code)
            if ActionID.isValid(rawID), state.provider.runnableAction(id: rawID) != nil {
                state.metrics.actionRefused(action: rawID, outcome: error.outcome)
            }
            try? state.auditLog.append(record)
            return .refused(error, auditID: record.auditID)
        }

        guard ActionID.isValid(rawID), let action = state.provider.runnableAction(id: rawID) else {
            return refuse(.unknownAction())
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
        record.outcome = AuditRecord.Outcome.started
        // The whole run on one thread of its own: intent, command, reader, completion.
        let intent = record
        state.idleTrim.runStarted()
        let ran = await BlockingThread.run(name: "zumik-run") { [self, logger] in
            runHere(action, intent: intent, caller: caller, incident: body.incident, logger: logger)
        }
        state.idleTrim.runEnded()
        guard let payload = ran else {
            // Counted with the refusals: its summary is written once the log accepts writes again.
            return refuse(Self.notRun)
        }
        return .ran(action: AgentAPI.CatalogAction(spec: spec, bundle: action.bundle), result: payload)
    }

    /// A run on the calling (blocking) thread: the intent made durable, the command, the plugin's
    /// reading, the completion made durable. Nil when the intent could not be written (nothing ran).
    private func runHere(
        _ action: RunnableAction,
        intent: AuditRecord,
        caller: Caller,
        incident: String?,
        logger: Logger
    ) -> AgentAPI.RunResult? {
        let spec = action.spec
        // Write-ahead: nothing is spawned unless its intent is durable.
        do {
            try state.auditLog.appendRun(intent)
        } catch {
            logger.critical(
                "not running: the audit log cannot record the intent",
                metadata: ["audit.error": "\(error)"]
            )
            return nil
        }
        logger.notice(
            "running action",
            metadata: [
                "client.ip": "\(caller.clientIP)", "bundle.id": "\(action.bundle.id)",
                "incident": "\(AuditText.clean(incident ?? ""))", "channel": "\(caller.channel.rawValue)",
            ]
        )

        let (result, outcome) = execute(spec, runID: intent.auditID)
        let stdoutTail = Array(result.stdoutTail)
        let stderrTail = Array(result.stderrTail)
        var interpretation: JSONValue?
        if result.spawnError == nil {
            interpretation = action.interpret(result.exitCode, result.signal, stdoutTail, stderrTail)
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

        var record = intent
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
        return AgentAPI.RunResult(
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
    }

    /// The intent could not be made durable: nothing was spawned.
    static let notRun = AgentHTTPError(
        .serviceUnavailable,
        "not run: the audit log could not record the intent",
        outcome: AgentAPI.ErrorBody.notRun
    )

    /// The preflight (if any) and then the main argv, within one timeout budget.
    /// On the calling thread, which it blocks.
    func execute(_ spec: ActionSpec, runID: String) -> (CommandResult, String) {
        let start = ContinuousClock.now
        let total = Duration.seconds(spec.timeoutS)
        let grace = Duration.seconds(spec.killGraceS)
        if let preflight = spec.preflightArgv, !preflight.isEmpty {
            let result = state.runner.runHere(
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
        let result = state.runner.runHere(
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
