import ActionKit

/// The leash on the model: what one tool call in a reply may do, decided without I/O.
///
/// Only the first call of a reply can run, only within the round budget, only a function tool, only with
/// well-formed `{"reason": …}` arguments (for a tool we know), and only an action still offered in this
/// incident. Everything else is refused: nothing runs and the refusal costs a round.
enum Leash {
    enum Decision: Equatable {
        /// Refused: `why` goes to the journal and Discord, `toolMessage` back to the model.
        case refuse(tool: String, why: String, toolMessage: String)
        /// The model asked for a human.
        case escalate(reason: String)
        /// Run this offered action.
        case run(AgentAPI.CatalogAction, reason: String)
    }

    /// - Parameters:
    ///   - index: the call's position in the reply (only 0 can run).
    ///   - available: the actions still offered in this incident; `offered`: all the catalog offered.
    static func judge(
        _ call: OpenAIChat.ResponseToolCall,
        index: Int,
        roundsLeft: Int,
        maxRounds: Int,
        available: [AgentAPI.CatalogAction],
        offered: [AgentAPI.CatalogAction]
    ) -> Decision {
        let name = call.function?.name ?? "(\(call.type) call)"
        if index > 0 || roundsLeft == 0 {
            let why =
                index > 0
                ? "more than one tool call in one turn (`\(name)`)"
                : "a call after the round budget (`\(name)`)"
            return .refuse(tool: name, why: why, toolMessage: "Refused: \(why). Nothing ran.")
        }
        guard let function = call.function else {
            return .refuse(
                tool: name,
                why: "not a function tool call",
                toolMessage: "Refused: only function tools exist. Nothing ran."
            )
        }
        let reason: String
        switch RemediationTools.reason(fromArguments: function.arguments) {
        case .success(let value): reason = value
        case .failure(let error):
            let known =
                function.name == RemediationTools.escalateToolName || available.contains { $0.id == function.name }
            guard !known else {
                return .refuse(
                    tool: function.name,
                    why: "malformed arguments for `\(function.name)`: \(error.message)",
                    toolMessage:
                        "Refused: malformed arguments (\(error.message)); pass {\"reason\": \"...\"}. Nothing ran. "
                        + "\(roundsLeft) of \(maxRounds) rounds left."
                )
            }
            reason = ""
        }
        if function.name == RemediationTools.escalateToolName { return .escalate(reason: reason) }
        guard let action = available.first(where: { $0.id == function.name }) else {
            let why =
                offered.contains { $0.id == function.name }
                ? "`\(clip(function.name, 64))` already ran in this incident and is not offered again"
                : "`\(clip(function.name, 64))` is not in the offered catalog"
            return .refuse(
                tool: function.name,
                why: why,
                toolMessage: "Refused: \(why). Nothing ran. \(roundsLeft) of \(maxRounds) rounds left."
            )
        }
        return .run(action, reason: reason)
    }
}
