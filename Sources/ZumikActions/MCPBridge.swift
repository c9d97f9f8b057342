import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension ZumikActions {
    /// `zumik-actions mcp --agent URL`: an MCP server on stdin/stdout for clients that only
    /// speak stdio, relaying each JSON-RPC message to the agent's `POST /mcp`. Policy, audit and
    /// limits stay on the agent; the bridge only carries messages and the session id.
    struct MCP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcp",
            abstract: "Relay MCP (JSON-RPC over stdio) to an ops-agent's /mcp endpoint.",
            discussion: """
                The bearer token comes from OPS_AGENT_TOKEN or OPS_AGENT_TOKEN_FILE (never a flag).
                One JSON-RPC message per line in, one per line out; diagnostics go to stderr.
                """
        )

        @Option(help: "The agent: http://HOST:PORT (then /mcp is used) or the full URL of its MCP endpoint.")
        var agent: String

        func run() async throws {
            let endpoint = try MCPRelay.endpoint(agent)
            let token = try MCPRelay.token(ProcessInfo.processInfo.environment)
            let relay = MCPRelay(endpoint: endpoint, token: token)
            while let line = readLine(strippingNewline: true) {
                if line.allSatisfy(\.isWhitespace) { continue }
                if let reply = await relay.forward(Data(line.utf8)) {
                    FileHandle.standardOutput.write(reply + Data("\n".utf8))
                }
            }
        }
    }
}

/// One message at a time from stdio to the agent and back. Remembers the session id and protocol
/// version the agent gave at `initialize`; turns HTTP-level refusals (401, 429, …) into JSON-RPC
/// errors for the request they answer.
final class MCPRelay {
    let endpoint: URL
    let token: String
    private let session: URLSession
    private var sessionID: String?
    private var protocolVersion: String?

    static let maxLineBytes = 1 << 20

    init(endpoint: URL, token: String) {
        self.endpoint = endpoint
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 600
        self.session = URLSession(configuration: configuration)
    }

    static func endpoint(_ text: String) throws -> URL {
        guard var components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), components.host?.isEmpty == false
        else {
            throw CommandFailure("--agent: '\(text)' is not an http(s) URL (e.g. http://127.0.0.1:8787)")
        }
        if components.path.isEmpty || components.path == "/" { components.path = "/mcp" }
        guard let url = components.url else { throw CommandFailure("--agent: '\(text)' is not a usable URL") }
        return url
    }

    static func token(_ environment: [String: String]) throws -> String {
        if let value = environment["OPS_AGENT_TOKEN"], !value.isEmpty { return value }
        guard let path = environment["OPS_AGENT_TOKEN_FILE"], !path.isEmpty else {
            throw CommandFailure("OPS_AGENT_TOKEN: missing (set OPS_AGENT_TOKEN or OPS_AGENT_TOKEN_FILE)")
        }
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8)
        else {
            throw CommandFailure("OPS_AGENT_TOKEN_FILE \(path): cannot read")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// The agent's answer to one line, or nil when there is none to write (a notification).
    func forward(_ line: Data) async -> Data? {
        let id = Self.requestID(line)
        guard line.count <= Self.maxLineBytes else {
            return Self.error(id: id, "message larger than \(Self.maxLineBytes) bytes; not sent")
        }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = line
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let sessionID { request.setValue(sessionID, forHTTPHeaderField: "Mcp-Session-Id") }
        if let protocolVersion { request.setValue(protocolVersion, forHTTPHeaderField: "MCP-Protocol-Version") }
        let data: Data
        let response: HTTPURLResponse
        do {
            let answer = try await session.data(for: request)
            guard let http = answer.1 as? HTTPURLResponse else {
                return Self.error(id: id, "the agent's answer was not HTTP")
            }
            data = answer.0
            response = http
        } catch {
            FileHandle.standardError.write(Data("zumik-actions mcp: \(endpoint): \(error.localizedDescription)\n".utf8))
            return Self.error(id: id, "the agent at \(endpoint) could not be reached")
        }
        if let given = response.value(forHTTPHeaderField: "Mcp-Session-Id") { sessionID = given }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        if let result = object?["result"] as? [String: Any], let version = result["protocolVersion"] as? String,
            result["serverInfo"] != nil
        {
            protocolVersion = version
        }
        if response.statusCode == 202 { return nil }
        if let object, object["jsonrpc"] as? String == "2.0" {
            return (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? data
        }
        let detail = ((object?["error"] as? [String: Any])?["message"] as? String) ?? "no JSON-RPC answer"
        return Self.error(id: id, "agent answered HTTP \(response.statusCode): \(detail)")
    }

    /// The id of a request line (nil for notifications, responses and unreadable lines).
    static func requestID(_ line: Data) -> Any? {
        guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], object["method"] != nil
        else { return nil }
        return object["id"]
    }

    static func error(id: Any?, _ message: String) -> Data? {
        guard let id else { return nil }
        let object: [String: Any] = ["jsonrpc": "2.0", "id": id, "error": ["code": -32603, "message": message]]
        return try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
    }
}
