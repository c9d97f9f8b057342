import ActionKit
import Foundation
import Logging
import Monitor

/// The driver of one incident's automation: the I/O (journal, agent, re-probe, page) around the pure parts
/// (`Leash`, `Ladder`, `RemediationTexts`); its state is rebuilt from the journal. The model path is in
/// `ModelLoop.swift`.
struct IncidentRun<C: Clock> where C.Duration == Duration {
    let engine: RemediationEngine<C>
    let incident: RemediationIncident
    let logger: Logger
    var entries: [RemediationJournalEntry] = []
    var path: RemediationPath = .model

    init(engine: RemediationEngine<C>, incident: RemediationIncident, logger: Logger) {
        self.engine = engine
        self.incident = incident
        self.logger = logger
    }

    var policy: RemediationPolicy { engine.policy }
    var roundsUsed: Int { entries.reduce(0) { $0 + $1.roundCost } }
    var roundsLeft: Int { max(0, policy.maxRounds - roundsUsed) }
    /// Remediations started in this incident (result known or not): never started again.
    var tried: [String] {
        entries.filter { $0.kind == .action && $0.actionKind == .remediation }.compactMap(\.tool)
    }
    /// Every action started in this incident, diagnostics too: a resumed ladder repeats none of them.
    var started: Set<String> { Set(entries.filter { $0.kind == .action }.compactMap(\.tool)) }

    enum Step {
        case healed
        case unreachable(String)
        case next(String)
    }

    mutating func execute(waited: Bool) async -> RemediationOutcome {
        do {
            entries = try await engine.journal.entries(for: incident.id)
        } catch {
            logger.error("remediation journal unreadable; not acting", metadata: ["error": "\(error)"])
            return .abandoned("journal unreadable: \(error)")
        }
        if entries.contains(where: { $0.kind == .paged }) { return .alreadyPaged }
        if let healed = entries.last(where: { $0.kind == .healed }) {
            return healed.tool == nil
                ? .recoveredWithoutAction : .healed(path: healed.path ?? .ladder, rounds: roundsUsed)
        }
        do {
            return try await drive(waited: waited)
        } catch is CancellationError {
            logger.notice("remediation interrupted by shutdown; the journal resumes it")
            return .abandoned("cancelled")
        } catch {
            logger.error("remediation journal write failed; stopping", metadata: ["error": "\(error)"])
            return .abandoned("journal write failed: \(error)")
        }
    }

    private mutating func drive(waited: Bool) async throws -> RemediationOutcome {
        guard policy.maxRounds > 0 else { return try await page(RemediationTexts.observeOnly) }
        let resumed = !entries.isEmpty
        let plannedPath: RemediationPath =
            engine.model == nil || entries.contains { $0.kind == .modelFailed } ? .ladder : .model
        if resumed {
            let summary = RemediationTexts.resumedSummary(roundsUsed: roundsUsed, maxRounds: policy.maxRounds)
            try await append(
                .init(incidentID: incident.id, kind: .started, result: summary),
                notice: RemediationTexts.resumed(incident, summary: summary, tried: tried)
            )
        } else {
            try await append(
                .init(incidentID: incident.id, kind: .started, result: "started (\(plannedPath.rawValue) path)"),
                notice: RemediationTexts.started(incident, path: plannedPath, maxRounds: policy.maxRounds)
            )
        }
        guard let agent = engine.agents[incident.host] else {
            return try await page("no ops-agent is configured for host `\(incident.host)`")
        }
        if waited || resumed {
            let verdict = await engine.prober.reprobe(incident)
            if verdict.healthy {
                try await append(
                    .init(incidentID: incident.id, kind: .healed, reprobe: verdict.summary),
                    notice: RemediationTexts.healthyBeforeAction(incident, verdict: verdict.summary)
                )
                return .recoveredWithoutAction
            }
        }
        do {
            try await agent.healthz()
        } catch {
            try Task.checkCancellation()
            if case .unreachable(let message) = error {
                return try await page(RemediationTexts.unreachable(host: incident.host, message))
            }
            return try await page("the ops-agent on `\(incident.host)` answered /healthz wrongly (\(error))")
        }
        let catalog: AgentAPI.Catalog
        do {
            catalog = try await agent.catalog()
        } catch {
            try Task.checkCancellation()
            if case .unreachable(let message) = error {
                return try await page(RemediationTexts.unreachable(host: incident.host, message))
            }
            return try await page("the ops-agent catalog on `\(incident.host)` could not be read (\(error))")
        }
        let offered = RemediationTools.offered(catalog, service: incident.service)
        guard offered.contains(where: { $0.kind == .remediation }) else {
            return try await page(
                "the ops-agent on `\(incident.host)` offers no remediation for service `\(incident.service)`"
            )
        }
        guard roundsLeft > 0 else {
            return try await page(RemediationTexts.exhausted(maxRounds: policy.maxRounds))
        }
        try Task.checkCancellation()
        if let model = engine.model, plannedPath == .model {
            return try await modelLoop(model, agent: agent, offered: offered)
        }
        let why = engine.model == nil ? "no model key configured" : "the model API failed earlier in this incident"
        return try await ladder(agent: agent, offered: offered, why: why)
    }

    // MARK: The ladder

    mutating func ladder(
        agent: AgentClient,
        offered: [AgentAPI.CatalogAction],
        why: String
    ) async throws -> RemediationOutcome {
        path = .ladder
        let plan = Ladder(offered: offered, tried: started)
        try await append(
            .init(incidentID: incident.id, kind: .note, path: .ladder, result: "ladder: \(why)"),
            notice: RemediationTexts.ladderPlan(
                incident,
                why: why,
                planned: plan.remediations.prefix(roundsLeft).map(\.id)
            )
        )
        // Read the service's state once before acting (read-only, no round cost), so the people
        // following the incident see what the ladder saw; a diagnostic that fails does not stop it.
        for diagnostic in plan.diagnostics {
            try Task.checkCancellation()
            let step = try await perform(
                diagnostic,
                reason: "deterministic ladder: read \(incident.service)'s state before acting",
                agent: agent,
                requestID: nil
            )
            if case .unreachable(let message) = step {
                return try await page(RemediationTexts.becameUnreachable(host: incident.host, message))
            }
        }
        for action in plan.remediations {
            guard roundsLeft > 0 else { break }
            try Task.checkCancellation()
            switch try await perform(
                action,
                reason: "deterministic ladder, rank \(action.rank) for \(incident.service) (\(why))",
                agent: agent,
                requestID: nil
            ) {
            case .healed: return .healed(path: .ladder, rounds: roundsUsed)
            case .unreachable(let message):
                return try await page(RemediationTexts.becameUnreachable(host: incident.host, message))
            case .next: continue
            }
        }
        if roundsLeft == 0 { return try await page(RemediationTexts.exhausted(maxRounds: policy.maxRounds)) }
        return try await page("the ladder ran out of remediations for service `\(incident.service)`")
    }

    // MARK: Steps

    /// Runs one offered action through the agent; after a remediation, settles and re-probes.
    mutating func perform(
        _ action: AgentAPI.CatalogAction,
        reason: String,
        agent: AgentClient,
        requestID: String?
    ) async throws -> Step {
        let isRemediation = action.kind == .remediation
        let label = RemediationTexts.actionLabel(action, path: path, round: roundsUsed + 1, maxRounds: policy.maxRounds)
        // Durable before the call: after a crash this action counts as done and is not repeated.
        try await append(
            .init(
                incidentID: incident.id,
                kind: .action,
                path: path,
                tool: action.id,
                actionKind: action.kind,
                reason: reason,
                modelRequestID: requestID,
                roundCost: isRemediation ? 1 : 0
            ),
            notice: nil
        )
        let timeout = Duration.seconds(action.timeoutS + action.killGraceS) + agent.configuration.runMargin
        let result: AgentAPI.RunResult
        do {
            result = try await agent.run(
                action: action.id,
                reason: reason,
                incident: incident.id.description,
                timeout: timeout
            )
        } catch {
            // Shutdown cut the call short: the `action` entry already keeps it from being repeated.
            try Task.checkCancellation()
            try await append(
                .init(
                    incidentID: incident.id,
                    kind: .actionResult,
                    path: path,
                    tool: action.id,
                    actionKind: action.kind,
                    result: error.description
                ),
                notice: RemediationTexts.notRun(label: label, reason: reason, error: error.description)
            )
            if case .unreachable(let message) = error { return .unreachable(message) }
            return .next(
                RemediationTexts.notRunToolText(
                    action: action.id,
                    error: error.description,
                    roundsLeft: roundsLeft,
                    maxRounds: policy.maxRounds
                )
            )
        }
        let summary = RemediationTexts.summary(of: result)
        let resultEntry = RemediationJournalEntry(
            incidentID: incident.id,
            kind: .actionResult,
            path: path,
            tool: action.id,
            actionKind: action.kind,
            auditID: result.auditID,
            result: summary
        )
        guard isRemediation else {
            try await append(
                resultEntry,
                notice: RemediationTexts.diagnosticRead(label: label, reason: reason, summary: summary)
            )
            return .next(toolText(action, result, verdict: nil))
        }
        // A remediation's result is announced together with its re-probe, below.
        try await append(resultEntry, notice: nil)
        try await engine.clock.sleep(for: policy.settle)
        let verdict = await engine.prober.reprobe(incident)
        let roundText = RemediationTexts.round(label: label, reason: reason, summary: summary, verdict: verdict.summary)
        if verdict.healthy {
            try await append(
                .init(incidentID: incident.id, kind: .reprobe, path: path, tool: action.id, reprobe: verdict.summary),
                notice: nil
            )
            try await append(
                .init(incidentID: incident.id, kind: .healed, path: path, tool: action.id, reprobe: verdict.summary),
                notice: roundText
                    + RemediationTexts.healedAfter(incident, action: action.id, path: path, rounds: roundsUsed)
            )
            return .healed
        }
        try await append(
            .init(incidentID: incident.id, kind: .reprobe, path: path, tool: action.id, reprobe: verdict.summary),
            notice: roundText + RemediationTexts.roundsLeft(roundsLeft, of: policy.maxRounds)
        )
        return .next(toolText(action, result, verdict: verdict))
    }

    /// Journals the refused calls of one model reply, each costing a round, with one notice for all of them.
    mutating func violations(_ refused: [(tool: String?, why: String)], requestID: String?) async throws {
        guard let first = refused.first else { return }
        let spent = roundsUsed + refused.count
        for (index, call) in refused.enumerated() {
            logger.warning("refused a model tool call", metadata: ["remediation.refusal": "\(call.why)"])
            try await append(
                .init(
                    incidentID: incident.id,
                    kind: .violation,
                    path: .model,
                    tool: call.tool.map { clip($0, 64) },
                    modelRequestID: requestID,
                    result: call.why,
                    roundCost: 1
                ),
                notice: index == 0
                    ? RemediationTexts.refusedMoves(
                        first.why,
                        count: refused.count,
                        spent: spent,
                        maxRounds: policy.maxRounds
                    )
                    : nil
            )
        }
    }

    mutating func page(_ why: String, requestID: String? = nil) async throws -> RemediationOutcome {
        // Errors seen while the monitor shuts down (cancelled transfers) must never page anyone.
        try Task.checkCancellation()
        let mention = policy.alertUserID
        let content = RemediationTexts.page(incident, why: why, tried: tried, mention: mention)
        let entry = RemediationJournalEntry(
            incidentID: incident.id,
            kind: .paged,
            path: path,
            reason: why,
            modelRequestID: requestID
        )
        let notice = RemediationNotice(
            incidentID: incident.id,
            property: incident.property,
            content: content,
            mentionUserID: mention
        )
        guard try await engine.journal.page(entry, notice: notice) else {
            logger.notice("incident already paged; not paging again")
            return .alreadyPaged
        }
        entries.append(entry)
        // Queued, not yet delivered: the sender logs "page delivered to the on-call human" when Discord took it.
        logger.notice("page queued for the on-call human", metadata: ["remediation.reason": "\(why)"])
        return .paged(reason: why)
    }

    mutating func append(_ entry: RemediationJournalEntry, notice: String?) async throws {
        try await engine.journal.append(
            entry,
            notice: notice.map {
                RemediationNotice(incidentID: incident.id, property: incident.property, content: $0)
            }
        )
        entries.append(entry)
    }

    func toolText(_ action: AgentAPI.CatalogAction, _ result: AgentAPI.RunResult, verdict: ProbeVerdict?) -> String {
        RemediationTexts.toolText(
            action,
            result,
            property: incident.property,
            verdict: verdict,
            roundsLeft: roundsLeft,
            maxRounds: policy.maxRounds,
            budget: policy.toolOutputBudget
        )
    }
}
