public import ActionKit
import Foundation
import Monitor
public import Probing

/// Why a call to the ops-agent did not give an answer we can use.
public enum AgentClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The host cannot be reached: DNS, connect, TLS, timeout, or 502/503/504 from the proxy in front.
    case unreachable(String)
    /// The agent answered and said no: 401, 404, 409 (lock busy), 429 (limits; `retryAfter` seconds).
    case refused(status: Int, message: String, retryAfter: Int?)
    /// Anything else: an unexpected status, or a body that is not the documented JSON.
    case badResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let message): "ops-agent unreachable: \(message)"
        case .refused(let status, let message, let retryAfter):
            "ops-agent refused (\(status)): \(message)" + (retryAfter.map { ", retry after \($0) s" } ?? "")
        case .badResponse(let message): "ops-agent bad response: \(message)"
        }
    }
}

/// The monitor's side of the ops-agent HTTP API (`OPS_AGENT_URL`, `OPS_AGENT_TOKEN`).
public struct AgentClient: Sendable {
    public struct Configuration: Sendable {
        /// Base URL, e.g. `https://ops.zumik.ai` (a trailing `/` is ignored).
        public var baseURL: String
        /// Bearer token; never logged.
        public var token: String
        /// Timeout for `/healthz` and the catalog.
        public var requestTimeout: Duration
        public var connectTimeout: Duration
        /// Added to an action's own `timeout_s + kill_grace_s` for the run call.
        public var runMargin: Duration

        public init(
            baseURL: String,
            token: String,
            requestTimeout: Duration = .seconds(8),
            connectTimeout: Duration = .seconds(3),
            runMargin: Duration = .seconds(10)
        ) {
            self.baseURL = baseURL
            self.token = token
            self.requestTimeout = requestTimeout
            self.connectTimeout = connectTimeout
            self.runMargin = runMargin
        }
    }

    public var configuration: Configuration
    let transport: any HTTPTransport

    public init(configuration: Configuration, transport: any HTTPTransport) {
        self.configuration = configuration
        self.transport = transport
    }

    /// `GET /healthz` (open route): succeeds when the agent answers 2xx.
    public func healthz() async throws(AgentClientError) {
        _ = try await call("GET", "/healthz", body: nil, timeout: configuration.requestTimeout, authorized: false)
    }

    /// `GET /v1/actions`.
    public func catalog() async throws(AgentClientError) -> AgentAPI.Catalog {
        let body = try await call("GET", "/v1/actions", body: nil, timeout: configuration.requestTimeout)
        return try decode(AgentAPI.Catalog.self, body, what: "catalog")
    }

    /// `POST /v1/actions/{id}/run`. `timeout` should cover the action's own timeout and grace.
    public func run(
        action: String,
        reason: String?,
        incident: String?,
        timeout: Duration
    ) async throws(AgentClientError) -> AgentAPI.RunResult {
        // ActionKit's rule, the one the manifest parser and the agent apply.
        if let problem = ManifestParser.actionIDProblem(action) {
            throw .badResponse("action id \(problem); not sent")
        }
        let request = AgentAPI.RunRequest(
            reason: reason.map { DiscordText.cut($0, to: AgentAPI.RunRequest.maxReasonScalars) },
            incident: incident
        )
        let payload: [UInt8]
        do {
            payload = Array(try JSONEncoder().encode(request))
        } catch {
            throw .badResponse("could not encode the run request: \(error)")
        }
        let body = try await call("POST", "/v1/actions/\(action)/run", body: payload, timeout: timeout)
        return try decode(AgentAPI.RunResult.self, body, what: "run result of \(action)")
    }

    private func call(
        _ method: String,
        _ path: String,
        body: [UInt8]?,
        timeout: Duration,
        authorized: Bool = true
    ) async throws(AgentClientError) -> [UInt8] {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        var headers = [(name: "Accept", value: "application/json, application/problem+json")]
        if authorized { headers.append((name: "Authorization", value: "Bearer \(configuration.token)")) }
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        let result = await transport.send(
            HTTPRequest(
                method: method,
                url: base + path,
                headers: headers,
                body: body,
                timeout: timeout,
                connectTimeout: configuration.connectTimeout,
                maxResponseBytes: 4 << 20,
                freshConnection: true
            )
        )
        if let error = result.error {
            switch error.kind {
            case .invalidRequest, .responseTooLarge: throw .badResponse("\(method) \(path): \(error.message)")
            default: throw .unreachable("\(method) \(path): \(error)")
            }
        }
        guard let status = result.status else { throw .unreachable("\(method) \(path): no HTTP status") }
        switch status {
        case 200..<300:
            return result.body
        case 502, 503, 504:
            throw .unreachable("\(method) \(path): HTTP \(status) from the proxy in front of the agent")
        case 401, 403, 404, 405, 409, 413, 429, 400:
            let message =
                (try? JSONDecoder().decode(AgentAPI.ErrorBody.self, from: Data(result.body)))?.error.message
                ?? String(decoding: result.body.prefix(200), as: UTF8.self)
            throw .refused(
                status: status,
                message: message,
                retryAfter: result.header("retry-after").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            )
        default:
            throw .badResponse("\(method) \(path): unexpected HTTP \(status)")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], what: String) throws(AgentClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .badResponse("\(what) is not the documented JSON: \(error)")
        }
    }
}
