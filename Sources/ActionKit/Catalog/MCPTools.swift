/// Renders a catalog as a Model Context Protocol `tools/list` result's `tools` array.
///
/// Name, description and input schema are the monitor's OpenAI tools (``OpenAITools``): one
/// required string `reason`, nothing else. The annotations say what the action's kind says:
/// diagnostics read-only; remediations destructive and not idempotent. None reaches beyond the
/// server (`openWorldHint: false`).
public enum MCPTools {
    /// One tool object per action, in the order given.
    public static func render(_ actions: [AgentAPI.CatalogAction]) -> [JSONValue] {
        zip(actions, OpenAITools.render(actions)).map { action, tool in
            .object([
                "name": .string(tool.function.name),
                "title": .string(action.title),
                "description": .string(tool.function.description),
                "inputSchema": tool.function.parameters,
                "annotations": annotations(action),
            ])
        }
    }

    /// `readOnlyHint` / `destructiveHint` / `idempotentHint` / `openWorldHint` for the action's kind.
    public static func annotations(_ action: AgentAPI.CatalogAction) -> JSONValue {
        var hints: [String: JSONValue] = ["title": .string(action.title), "openWorldHint": .bool(false)]
        switch action.kind {
        case .diagnostic:
            hints["readOnlyHint"] = .bool(true)
        case .remediation:
            hints["readOnlyHint"] = .bool(false)
            hints["destructiveHint"] = .bool(true)
            hints["idempotentHint"] = .bool(false)
        }
        return .object(hints)
    }
}
