import ActionKit
import Hummingbird

/// `tools/call`: the named action through ``ActionDispatch`` (same lock, cooldown, window and
/// audit as REST), narrowed by ``MCPConfiguration``; the reader's framed output back as text.
/// Refusals and failed runs are tool results with `isError: true`, so the model reads why.
struct MCPToolCall: Sendable {
    let state: AgentState
    let configuration: MCPConfiguration

    /// How much command output a result carries between the tags (UTF-8 bytes).
    static let outputBudget = 8 * 1024

    func call(
        id: RPCID,
        params: [String: JSONValue],
        session: MCPSessions.Session,
        context: AgentRequestContext
    ) async -> RPCReply {
        guard case .string(let name)? = params["name"] else {
            return RPCReply(id: id, error: RPCError(.invalidParams, "invalid params: 'name' must be a string"))
        }
        let caller = ActionDispatch.Caller(
            requestID: context.id,
            clientIP: context.clientIP,
            method: "POST",
            channel: .mcp,
            clientName: session.clientName,
            logger: context.logger
        )
        let configuration = configuration
        let outcome = await ActionDispatch(state: state).run(
            action: String(name.unicodeScalars.prefix(128)),
            caller: caller,
            permitted: { action in
                configuration.permits(action.spec)
                    ? nil
                    : AgentHTTPError(
                        .forbidden,
                        "action '\(action.spec.id)' is not enabled for MCP clients on this agent",
                        outcome: "mcp_not_allowed"
                    )
            },
            arguments: { () throws(AgentHTTPError) -> RunBody in try Self.arguments(params["arguments"]) }
        )
        switch outcome {
        case .ran(let action, let result):
            let text =
                "Action \(action.id) (\(action.kind.rawValue)) finished: \(UntrustedOutput.summary(of: result)).\n"
                + UntrustedOutput.frame(result, budget: Self.outputBudget)
            return Self.result(id: id, text: text, isError: result.outcome != "succeeded")
        case .refused(let error, let auditID):
            let audit = auditID.map { " (audit \($0))" } ?? ""
            return Self.result(id: id, text: "Refused: \(error.message)\(audit).", isError: true)
        }
    }

    /// `{"reason": string ≤ 500}` and nothing else: the schema `tools/list` advertises.
    static func arguments(_ value: JSONValue?) throws(AgentHTTPError) -> RunBody {
        guard case .object(let object)? = value else {
            throw .badRequest("arguments must be an object with a string 'reason'")
        }
        for key in object.keys.sorted() where key != "reason" {
            throw .badRequest(
                "arguments: unknown key '\(String(key.unicodeScalars.prefix(64)))' (only 'reason' is accepted)"
            )
        }
        guard case .string(let reason)? = object["reason"] else {
            throw .badRequest("arguments: 'reason' is required and must be a string")
        }
        guard reason.unicodeScalars.count <= RunBody.maxReason else {
            throw .badRequest("arguments: 'reason' longer than \(RunBody.maxReason) characters")
        }
        return RunBody(reason: reason)
    }

    static func result(id: RPCID, text: String, isError: Bool) -> RPCReply {
        RPCReply(
            id: id,
            result: .object([
                "content": .array([.object(["type": .string("text"), "text": .string(text)])]),
                "isError": .bool(isError),
            ])
        )
    }
}
