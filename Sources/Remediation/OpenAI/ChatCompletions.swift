public import ActionKit

/// The slice of the OpenAI Chat Completions API that remediation uses (`POST {base}/chat/completions`).
/// Keys are the API's snake_case; optional fields are omitted, never sent as `null`.
public enum OpenAIChat {
    public struct Request: Sendable, Encodable {
        public var model: String
        public var messages: [Message]
        public var tools: [Tool]
        /// `"required"`: every turn must be a tool call (giving up is the `escalate_to_human` tool).
        public var toolChoice: String
        public var parallelToolCalls: Bool
        public var maxCompletionTokens: Int

        public init(
            model: String,
            messages: [Message],
            tools: [Tool],
            toolChoice: String = "required",
            parallelToolCalls: Bool = false,
            maxCompletionTokens: Int
        ) {
            self.model = model
            self.messages = messages
            self.tools = tools
            self.toolChoice = toolChoice
            self.parallelToolCalls = parallelToolCalls
            self.maxCompletionTokens = maxCompletionTokens
        }

        enum CodingKeys: String, CodingKey {
            case model, messages, tools
            case toolChoice = "tool_choice"
            case parallelToolCalls = "parallel_tool_calls"
            case maxCompletionTokens = "max_completion_tokens"
        }
    }

    public enum Role: String, Sendable, Codable {
        case system, user, assistant, tool
    }

    public struct Message: Sendable, Hashable, Codable {
        public var role: Role
        public var content: String?
        public var toolCalls: [ToolCall]?
        public var toolCallID: String?

        public init(role: Role, content: String?, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
            self.toolCallID = toolCallID
        }

        public static func system(_ text: String) -> Message { Message(role: .system, content: text) }
        public static func user(_ text: String) -> Message { Message(role: .user, content: text) }
        public static func tool(callID: String, _ text: String) -> Message {
            Message(role: .tool, content: text, toolCallID: callID)
        }

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encodeIfPresent(content, forKey: .content)
            if let toolCalls, !toolCalls.isEmpty { try container.encode(toolCalls, forKey: .toolCalls) }
            try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
        }
    }

    public struct ToolCall: Sendable, Hashable, Codable {
        public var id: String
        public var type: String
        public var function: FunctionCall

        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.type = "function"
            self.function = FunctionCall(name: name, arguments: arguments)
        }
    }

    public struct FunctionCall: Sendable, Hashable, Codable {
        public var name: String
        /// JSON text as the model wrote it: validate before use.
        public var arguments: String
    }

    public struct Tool: Sendable, Hashable, Codable {
        public var type: String
        public var function: FunctionDefinition

        public init(name: String, description: String, parameters: JSONValue, strict: Bool = true) {
            self.type = "function"
            self.function = FunctionDefinition(
                name: name,
                description: description,
                parameters: parameters,
                strict: strict
            )
        }
    }

    public struct FunctionDefinition: Sendable, Hashable, Codable {
        public var name: String
        public var description: String
        public var parameters: JSONValue
        public var strict: Bool
    }

    /// The response, read leniently: only what the engine needs, the rest is ignored.
    public struct Response: Sendable, Decodable {
        public var id: String
        public var model: String?
        public var choices: [Choice]
    }

    public struct Choice: Sendable, Decodable {
        public var index: Int?
        public var message: ResponseMessage
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    public struct ResponseMessage: Sendable, Decodable {
        public var content: String?
        public var refusal: String?
        public var toolCalls: [ResponseToolCall]?

        enum CodingKeys: String, CodingKey {
            case content, refusal
            case toolCalls = "tool_calls"
        }
    }

    /// A tool call as returned; `function` is absent for non-function (custom) calls.
    public struct ResponseToolCall: Sendable, Decodable {
        public var id: String
        public var type: String
        public var function: FunctionCall?
    }
}
