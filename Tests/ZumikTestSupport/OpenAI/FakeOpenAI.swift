import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A loopback stand-in for OpenAI Chat Completions that plays a script, one reply per request.
///
/// Every request body and every response body it serves are recorded; ``schemaFailures()``
/// checks them against the strict request schema and the response schema with `validate.py`.
/// When the script runs out it answers a text-only reply (which the engine must treat as a
/// turn without a tool call).
public final class FakeOpenAI: Sendable {
    public struct Call: Sendable, Hashable {
        public var name: String
        public var arguments: String
        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }
    }

    public enum Reply: Sendable, Hashable {
        /// One or more function tool calls (more than one: a parallel-call reply).
        case toolCalls([Call])
        /// A reply with text and no tool call.
        case text(String)
        /// A non-2xx answer with this body (e.g. 500, 429).
        case status(Int, String)
        /// 200 with a body that is not a chat completion.
        case garbage(String)

        /// A call to `name` with `{"reason": reason}`.
        public static func call(_ name: String, reason: String) -> Reply {
            let data = (try? JSONEncoder().encode(["reason": reason])) ?? Data()
            return .toolCalls([Call(name: name, arguments: String(decoding: data, as: UTF8.self))])
        }

        /// A call to `name` whose arguments are not valid JSON.
        public static func malformedArguments(_ name: String) -> Reply {
            .toolCalls([Call(name: name, arguments: "{\"reason\": \"restart it")])
        }
    }

    /// One request as received.
    public struct Received: Sendable {
        public var authorization: String?
        public var body: [UInt8]
        /// The body decoded as JSON (`nil` when it is not JSON).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }
    }

    private struct State {
        var script: [Reply]
        var received: [Received] = []
        var served: [[UInt8]] = []
    }

    private let state: Mutex<State>
    public let model: String

    public init(script: [Reply], model: String = "gpt-4o-mini-fake") {
        self.state = Mutex(State(script: script))
        self.model = model
    }

    /// Serves the fake for the duration of `body`, which gets the base URL (`http://127.0.0.1:PORT/v1`).
    public func serve<T: Sendable>(_ body: @Sendable (_ baseURL: String) async throws -> T) async throws -> T {
        try await withLoopbackRouter(router()) { port in
            try await body("http://127.0.0.1:\(port)/v1")
        }
    }

    public var received: [Received] { state.withLock { $0.received } }
    /// Bodies of the 200 chat completions served.
    public var served: [[UInt8]] { state.withLock { $0.served } }
    public var remainingScript: Int { state.withLock { $0.script.count } }

    /// Appends replies to the script (e.g. between two phases of a test).
    public func enqueue(_ replies: [Reply]) {
        state.withLock { $0.script.append(contentsOf: replies) }
    }

    /// Every schema problem of the recorded requests and served responses; empty when all valid.
    public func schemaFailures() async -> [String] {
        var failures: [String] = []
        for (index, request) in received.enumerated() {
            if let failure = await OpenAISpecs.validate(request.body, against: OpenAISpecs.requestSchema) {
                failures.append("request \(index): \(failure)")
            }
        }
        for (index, response) in served.enumerated() {
            if let failure = await OpenAISpecs.validate(response, against: OpenAISpecs.responseSchema) {
                failures.append("response \(index): \(failure)")
            }
        }
        return failures
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 4 << 20)
            let body = Array(buffer.readableBytesView)
            return self.answer(authorization: request.headers[.authorization], body: body)
        }
        return router
    }

    private func answer(authorization: String?, body: [UInt8]) -> Response {
        let (reply, number): (Reply, Int) = state.withLock { state in
            state.received.append(Received(authorization: authorization, body: body))
            let reply = state.script.isEmpty ? Reply.text("(script exhausted)") : state.script.removeFirst()
            return (reply, state.received.count)
        }
        switch reply {
        case .status(let status, let text):
            return Self.response(status: .init(code: status), bytes: Array(text.utf8), requestID: number)
        case .garbage(let text):
            return Self.response(status: .ok, bytes: Array(text.utf8), requestID: number)
        case .text(let text):
            let bytes = completion(number: number, content: text, calls: [])
            state.withLock { $0.served.append(bytes) }
            return Self.response(status: .ok, bytes: bytes, requestID: number)
        case .toolCalls(let calls):
            let bytes = completion(number: number, content: nil, calls: calls)
            state.withLock { $0.served.append(bytes) }
            return Self.response(status: .ok, bytes: bytes, requestID: number)
        }
    }

    private static func response(status: HTTPResponse.Status, bytes: [UInt8], requestID: Int) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("x-request-id")!] = "req_fake_\(requestID)"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private struct Completion: Encodable {
        struct Function: Encodable {
            var name: String
            var arguments: String
        }
        struct ToolCall: Encodable {
            var id: String
            var type = "function"
            var function: Function
        }
        struct Message: Encodable {
            var role = "assistant"
            var content: String?
            var refusal: String? = nil
            var tool_calls: [ToolCall]?
            var annotations: [String] = []

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(role, forKey: .role)
                try container.encode(content, forKey: .content)
                try container.encode(refusal, forKey: .refusal)
                try container.encodeIfPresent(tool_calls, forKey: .tool_calls)
                try container.encode(annotations, forKey: .annotations)
            }
            enum CodingKeys: String, CodingKey { case role, content, refusal, tool_calls, annotations }
        }
        struct Choice: Encodable {
            var index = 0
            var finish_reason: String
            var message: Message
            var logprobs: String? = nil

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(index, forKey: .index)
                try container.encode(finish_reason, forKey: .finish_reason)
                try container.encode(message, forKey: .message)
                try container.encodeNil(forKey: .logprobs)
            }
            enum CodingKeys: String, CodingKey { case index, finish_reason, message, logprobs }
        }
        struct Usage: Encodable {
            var prompt_tokens = 120
            var completion_tokens = 20
            var total_tokens = 140
        }
        var id: String
        var object = "chat.completion"
        var created: Int
        var model: String
        var choices: [Choice]
        var usage = Usage()
    }

    private func completion(number: Int, content: String?, calls: [Call]) -> [UInt8] {
        let toolCalls = calls.enumerated().map { index, call in
            Completion.ToolCall(
                id: "call_\(number)_\(index)",
                function: .init(name: call.name, arguments: call.arguments)
            )
        }
        let body = Completion(
            id: "chatcmpl-fake-\(number)",
            created: Int(Date().timeIntervalSince1970),
            model: model,
            choices: [
                .init(
                    finish_reason: calls.isEmpty ? "stop" : "tool_calls",
                    message: .init(content: content, tool_calls: calls.isEmpty ? nil : toolCalls)
                )
            ]
        )
        return Array((try? JSONEncoder().encode(body)) ?? Data())
    }
}
