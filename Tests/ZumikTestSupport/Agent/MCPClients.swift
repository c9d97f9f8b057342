import Foundation

/// The reference Python MCP client (PyPI `mcp`, `Tests/Fixtures/mcp/client.py`) driving a server.
public enum PythonMCP {
    /// True when `python3` can import the `mcp` package (`scripts/setup.sh` installs it).
    public static let available: Bool = {
        (try? DockerEngine.runBlocking(["-c", "import mcp, httpx2"], executable: "/usr/bin/env", prefix: ["python3"]))?
            .status == 0
    }()

    public static var script: String { TestBundleFactory.packageRoot + "/Tests/Fixtures/mcp/client.py" }

    /// Runs the plan's `steps` and returns one result per step (`{"exception": …}` for a step
    /// that raised); throws with the client's stderr when it failed as a whole.
    public static func run(_ plan: [String: Any]) async throws -> [[String: Any]] {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: plan), as: UTF8.self)
        let output = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try DockerEngine.runBlocking([script, text], executable: "/usr/bin/env", prefix: ["python3"])
                    }
                )
            }
        }
        guard output.status == 0,
            let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
            let results = object["results"] as? [[String: Any]]
        else {
            throw RawHTTPError(message: "python mcp client failed (\(output.status)): \(output.stderr.suffix(2000))")
        }
        return results
    }

    /// How the client reaches the agent: Streamable HTTP to its `/mcp`, or stdio through
    /// `zumik-actions mcp --agent …`.
    public enum Route: Sendable { case http, bridge }

    /// Connects to `agent` as `clientName` and runs `steps`.
    public static func session(
        _ agent: BinaryAgent,
        via route: Route = .http,
        clientName: String,
        token: String = BinaryAgent.token,
        steps: [[String: Any]]
    ) async throws -> [[String: Any]] {
        var plan: [String: Any] = ["client_name": clientName, "steps": steps]
        switch route {
        case .http:
            plan.merge(["transport": "http", "url": "http://127.0.0.1:\(agent.port)/mcp", "token": token]) { $1 }
        case .bridge:
            plan.merge([
                "transport": "stdio", "command": AgentBinary.directory + "/zumik-actions",
                "args": ["mcp", "--agent", "http://127.0.0.1:\(agent.port)"], "env": ["OPS_AGENT_TOKEN": token],
            ]) { $1 }
        }
        return try await run(plan)
    }

    /// The text of a `tools/call` result's first content item.
    public static func text(_ result: [String: Any]) -> String {
        ((result["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    }
}

/// Hand-written MCP requests against a ``BinaryAgent``'s `/mcp`, for what a well-behaved client
/// never sends.
extension BinaryAgent {
    public func mcp(
        _ body: String,
        session: String? = nil,
        token: String? = BinaryAgent.token,
        contentType: String? = "application/json",
        extraHeaders: [(String, String)] = [],
        method: String = "POST"
    ) async throws -> RawHTTPResponse {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if let session { headers.append(("Mcp-Session-Id", session)) }
        return try await RawHTTP.send(
            port: port,
            method: method,
            path: "/mcp",
            headers: headers + extraHeaders,
            body: Array(body.utf8)
        )
    }

    /// `initialize` as `clientName`; returns the session id.
    public func mcpSession(clientName: String) async throws -> String {
        let name = String(decoding: try JSONSerialization.data(withJSONObject: [clientName]), as: UTF8.self)
        let response = try await mcp(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":\#(name.dropFirst().dropLast()),"version":"1"}}}"#
        )
        guard response.status == 200, let session = response.header("Mcp-Session-Id") else {
            throw RawHTTPError(message: "initialize failed: \(response.status) \(response.text)")
        }
        return session
    }

    /// `tools/call` with `arguments` (JSON text) in `session`.
    public func mcpCall(_ name: String, arguments: String, session: String, id: Int = 2) async throws
        -> RawHTTPResponse
    {
        try await mcp(
            #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(name)","arguments":\#(arguments)}}"#,
            session: session
        )
    }
}
