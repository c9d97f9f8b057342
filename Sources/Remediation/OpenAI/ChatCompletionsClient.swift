import Foundation
public import Probing

/// Why the model API gave no usable answer; every case sends the engine down the ladder.
public struct ModelAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// No HTTP answer: DNS, connect, TLS, timeout.
        case transport
        /// 429: rate limited or out of quota.
        case rateLimited
        /// 5xx.
        case serverError
        /// Any other non-2xx status (bad key, bad request).
        case rejected
        /// 2xx but not a chat completion we can read.
        case malformed
    }

    public var kind: Kind
    public var status: Int?
    public var message: String

    public var description: String {
        "model API \(kind.rawValue)" + (status.map { " (HTTP \($0))" } ?? "") + ": \(message)"
    }
}

/// A chat completion and the provider's request id (`x-request-id`), kept for the journal.
public struct ModelReply: Sendable {
    public var response: OpenAIChat.Response
    public var requestID: String?
}

/// What the engine needs from a model: one turn of the conversation.
public protocol RemediationModel: Sendable {
    func complete(
        messages: [OpenAIChat.Message],
        tools: [OpenAIChat.Tool]
    ) async throws(ModelAPIError) -> ModelReply
}

/// OpenAI Chat Completions, or any server speaking it (`remediation.base_url`).
public struct ChatCompletionsClient: RemediationModel {
    public struct Configuration: Sendable {
        /// `remediation.base_url`; `{base}/chat/completions` is called.
        public var baseURL: String
        /// `remediation.model`.
        public var model: String
        /// `SEPARATE_OPENAI_KEY`; never logged.
        public var apiKey: String
        /// Upper bound on each reply; a tool call needs far fewer.
        public var maxCompletionTokens: Int
        public var timeout: Duration

        public init(
            baseURL: String = "https://api.openai.com/v1",
            model: String = "gpt-4o-mini",
            apiKey: String,
            maxCompletionTokens: Int = 800,
            timeout: Duration = .seconds(30)
        ) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
            self.maxCompletionTokens = maxCompletionTokens
            self.timeout = timeout
        }
    }

    public var configuration: Configuration
    let transport: any HTTPTransport

    public init(configuration: Configuration, transport: any HTTPTransport) {
        self.configuration = configuration
        self.transport = transport
    }

    public func complete(
        messages: [OpenAIChat.Message],
        tools: [OpenAIChat.Tool]
    ) async throws(ModelAPIError) -> ModelReply {
        let request = OpenAIChat.Request(
            model: configuration.model,
            messages: messages,
            tools: tools,
            maxCompletionTokens: configuration.maxCompletionTokens
        )
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(request))
        } catch {
            throw ModelAPIError(kind: .malformed, message: "could not encode the request: \(error)")
        }
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let result = await transport.send(
            HTTPRequest(
                method: "POST",
                url: base + "/chat/completions",
                headers: [
                    (name: "Authorization", value: "Bearer \(configuration.apiKey)"),
                    (name: "Content-Type", value: "application/json"),
                    (name: "Accept", value: "application/json"),
                ],
                body: body,
                timeout: configuration.timeout,
                connectTimeout: .seconds(5),
                maxResponseBytes: 2 << 20,
                freshConnection: true
            )
        )
        if let error = result.error {
            throw ModelAPIError(
                kind: error.kind == .responseTooLarge ? .malformed : .transport,
                message: error.description
            )
        }
        guard let status = result.status else { throw ModelAPIError(kind: .transport, message: "no HTTP status") }
        switch status {
        case 200..<300: break
        case 429: throw ModelAPIError(kind: .rateLimited, status: 429, message: "rate limited")
        case 500..<600: throw ModelAPIError(kind: .serverError, status: status, message: "server error")
        default:
            throw ModelAPIError(
                kind: .rejected,
                status: status,
                message: String(decoding: result.body.prefix(300), as: UTF8.self)
            )
        }
        do {
            let decoded = try JSONDecoder().decode(OpenAIChat.Response.self, from: Data(result.body))
            guard !decoded.choices.isEmpty else {
                throw ModelAPIError(kind: .malformed, message: "a chat completion without choices")
            }
            return ModelReply(response: decoded, requestID: result.header("x-request-id"))
        } catch let error as ModelAPIError {
            throw error
        } catch {
            throw ModelAPIError(kind: .malformed, message: "not a chat completion: \(error)")
        }
    }
}
