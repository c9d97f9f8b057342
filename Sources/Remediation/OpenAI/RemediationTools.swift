public import ActionKit
import Foundation
import Monitor

/// The catalog as strict OpenAI function tools, and the leash's check of a model's tool call.
public enum RemediationTools {
    /// The tool the model calls to give up and page the on-call human.
    public static let escalateToolName = "escalate_to_human"
    /// Longest `reason` passed on, in Unicode scalars: the agent's own limit.
    public static let maxReasonLength = AgentAPI.RunRequest.maxReasonScalars

    /// The actions offered for an incident on `service`: only those whose `targets` include it.
    public static func offered(_ catalog: AgentAPI.Catalog, service: String) -> [AgentAPI.CatalogAction] {
        catalog.actions.filter { $0.targets.contains(service) }
    }

    /// One strict function tool per action, described by its manifest description, with a single
    /// required `reason` parameter; plus `escalate_to_human`. What `reason` is for is said once, in the
    /// system prompt, not in every tool.
    public static func tools(for actions: [AgentAPI.CatalogAction]) -> [OpenAIChat.Tool] {
        OpenAITools.render(actions).map {
            OpenAIChat.Tool(
                name: $0.function.name,
                description: $0.function.description,
                parameters: reasonParameters(nil),
                strict: $0.function.strict
            )
        } + [
            OpenAIChat.Tool(
                name: escalateToolName,
                description:
                    "Give up on automation and page the on-call human, when no offered action can fix the problem.",
                parameters: reasonParameters("What you found and why a human is needed.")
            )
        ]
    }

    static func reasonParameters(_ description: String?) -> JSONValue {
        var reason: [String: JSONValue] = ["type": .string("string")]
        reason["description"] = description.map { .string($0) }
        return .object([
            "type": .string("object"),
            "properties": .object(["reason": .object(reason)]),
            "required": .array([.string("reason")]),
            "additionalProperties": .bool(false),
        ])
    }

    /// The `reason` of a tool call's JSON arguments, or why they are malformed: they must be an
    /// object with exactly one non-empty string key `reason`. Long reasons are cut, not refused.
    public static func reason(fromArguments arguments: String) -> Result<String, ArgumentError> {
        guard let data = arguments.data(using: .utf8),
            let value = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { return .failure(ArgumentError(message: "arguments are not JSON")) }
        guard case .object(let object) = value else {
            return .failure(ArgumentError(message: "arguments are not a JSON object"))
        }
        guard let field = object["reason"] else {
            return .failure(ArgumentError(message: "arguments have no \"reason\""))
        }
        guard case .string(let reason) = field else {
            return .failure(ArgumentError(message: "\"reason\" is not a string"))
        }
        let extra = object.keys.filter { $0 != "reason" }.sorted()
        guard extra.isEmpty else {
            return .failure(ArgumentError(message: "unexpected argument keys \(extra.joined(separator: ", "))"))
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .failure(ArgumentError(message: "\"reason\" is empty")) }
        return .success(DiscordText.cut(trimmed, to: maxReasonLength))
    }

    public struct ArgumentError: Error, Sendable, Hashable {
        public var message: String
    }
}
