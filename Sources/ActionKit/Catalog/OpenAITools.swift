/// Renders a catalog as an OpenAI Chat Completions `tools` array.
///
/// Every action becomes a strict function tool whose only parameter is a required string
/// `reason`: the model picks an action, it never supplies arguments for the command.
public enum OpenAITools {
    /// `{"type":"function","function":{…}}`
    public struct Tool: Sendable, Hashable, Codable {
        public var type: String
        public var function: Function

        public init(function: Function) {
            self.type = "function"
            self.function = function
        }
    }

    public struct Function: Sendable, Hashable, Codable {
        public var name: String
        public var description: String
        public var strict: Bool
        public var parameters: JSONValue

        public init(name: String, description: String, parameters: JSONValue, strict: Bool = true) {
            self.name = name
            self.description = description
            self.strict = strict
            self.parameters = parameters
        }
    }

    public static let reasonDescription =
        "Why you are choosing this action, in one sentence. Logged for the on-call human; never executed."

    /// The parameters schema every action tool shares.
    public static var reasonParameters: JSONValue {
        .object([
            "type": .string("object"),
            "properties": .object([
                "reason": .object([
                    "type": .string("string"),
                    "description": .string(reasonDescription),
                ])
            ]),
            "required": .array([.string("reason")]),
            "additionalProperties": .bool(false),
        ])
    }

    /// One tool per action, in the order given.
    public static func render(_ actions: [AgentAPI.CatalogAction]) -> [Tool] {
        actions.map { action in
            Tool(
                function: Function(
                    name: action.id,
                    description: toolDescription(action),
                    parameters: reasonParameters
                )
            )
        }
    }

    /// One tool per action spec, in the order given.
    public static func render(specs: [ActionSpec]) -> [Tool] {
        render(
            specs.map {
                AgentAPI.CatalogAction(spec: $0, bundle: .init(id: "", version: "", serial: 0, sha256: "", keyID: ""))
            }
        )
    }

    /// The action's description, as written in the signed manifest.
    static func toolDescription(_ action: AgentAPI.CatalogAction) -> String {
        action.description
    }
}
