import ActionKit

/// The model path of an `IncidentRun`: one conversation turn at a time, every tool call judged by the
/// `Leash` before anything runs. A failing model API hands the incident to the ladder.
extension IncidentRun {
    mutating func modelLoop(
        _ model: any RemediationModel,
        agent: AgentClient,
        offered: [AgentAPI.CatalogAction]
    ) async throws -> RemediationOutcome {
        path = .model
        let done = Set(tried)
        var available = offered.filter { !($0.kind == .remediation && done.contains($0.id)) }
        // Each request: the system prompt, the briefing (with the condensed history of everything before the
        // model's latest reply), and that reply with what answered it. Earlier replies, their arguments and
        // their full tool results are not re-sent; the history keeps what they did and found.
        var window: [OpenAIChat.Message] = []
        var condensed = entries.count
        var findings = readings
        var turns = 0
        while roundsLeft > 0 {
            try Task.checkCancellation()
            guard turns < policy.maxModelTurns else {
                return try await page("the model took \(turns) turns without fixing it")
            }
            turns += 1
            let reply: ModelReply
            do {
                let briefing = RemediationTexts.briefing(
                    incident,
                    available: available,
                    history: RemediationTexts.history(Array(entries.prefix(condensed)), findings: findings),
                    roundsLeft: roundsLeft,
                    maxRounds: policy.maxRounds
                )
                reply = try await model.complete(
                    messages: [.system(RemediationTexts.systemPrompt(maxRounds: policy.maxRounds)), .user(briefing)]
                        + window,
                    tools: RemediationTools.tools(for: available)
                )
            } catch {
                // A call cut short by shutdown is not a model failure: resume on the model path later.
                try Task.checkCancellation()
                try await append(
                    .init(incidentID: incident.id, kind: .modelFailed, path: .model, result: error.description),
                    notice: RemediationTexts.modelFailed(error.description)
                )
                return try await ladder(
                    agent: agent,
                    offered: offered,
                    why: "the model API failed (\(error.kind.rawValue))"
                )
            }
            let requestID = [reply.response.id, reply.requestID].compactMap { $0 }.joined(separator: " ")
            guard let message = reply.response.choices.first?.message else {
                try await append(
                    .init(
                        incidentID: incident.id,
                        kind: .modelFailed,
                        path: .model,
                        modelRequestID: requestID,
                        result: "a chat completion without choices"
                    ),
                    notice: RemediationTexts.modelWithoutChoice
                )
                return try await ladder(agent: agent, offered: offered, why: "the model API failed (malformed)")
            }
            let calls = message.toolCalls ?? []
            window = []
            condensed = entries.count
            findings = readings
            guard !calls.isEmpty else {
                try await violations([(nil, "the model replied without a tool call")], requestID: requestID)
                window.append(.init(role: .assistant, content: clip(message.content ?? message.refusal ?? "", 500)))
                window.append(.user(RemediationTexts.noToolCall(roundsLeft: roundsLeft, maxRounds: policy.maxRounds)))
                continue
            }
            window.append(
                .init(
                    role: .assistant,
                    content: message.content,
                    toolCalls: calls.map {
                        OpenAIChat.ToolCall(
                            id: $0.id,
                            name: $0.function?.name ?? "not_a_function",
                            arguments: $0.function?.arguments ?? "{}"
                        )
                    }
                )
            )
            // Refused calls of this reply: journaled together after it, with one notice for all of them. Once a
            // call is refused, every later call of the reply is refused too (only the first may run).
            var refused: [(tool: String?, why: String)] = []
            for (index, call) in calls.enumerated() {
                let decision = Leash.judge(
                    call,
                    index: index,
                    roundsLeft: roundsLeft,
                    maxRounds: policy.maxRounds,
                    available: available,
                    offered: offered
                )
                switch decision {
                case .refuse(let tool, let why, let toolMessage):
                    refused.append((tool, why))
                    window.append(.tool(callID: call.id, toolMessage))
                case .escalate(let reason):
                    return try await page("the model escalated: \(clip(reason, 300))", requestID: requestID)
                case .run(let action, let reason):
                    switch try await perform(action, reason: reason, agent: agent, requestID: requestID) {
                    case .healed: return .healed(path: .model, rounds: roundsUsed)
                    case .unreachable(let message):
                        return try await page(RemediationTexts.becameUnreachable(host: incident.host, message))
                    case .next(let text):
                        window.append(.tool(callID: call.id, text))
                    }
                    if action.kind == .remediation { available.removeAll { $0.id == action.id } }
                }
            }
            try await violations(refused, requestID: requestID)
        }
        return try await page(RemediationTexts.exhausted(maxRounds: policy.maxRounds))
    }
}
