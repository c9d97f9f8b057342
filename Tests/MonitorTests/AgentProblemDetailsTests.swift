import ActionKit
import Foundation
import Probing
import Remediation
import Testing
import ZumikTestSupport

/// The real agent's refusals as RFC 9457 problem documents, one `type` per kind, still read by the monitor's
/// `AgentClient`.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct AgentProblemDetailsTests {
    @Test func eachRefusalHasItsType() async throws {
        let work = try ZumikTestSupport.TempDir()
        defer { work.remove() }
        let gate = work.file("gate")
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                ("test_echo", "echo hi", 10, "echo"),
                ("test_slow", "touch \(work.file("started")); while [ ! -e \(gate) ]; do sleep 0.1; done", 30, "slow"),
            ]
        )
        try await BinaryAgent.with(
            bundles: [(name: "p", manifest: manifest, plugin: "NginxActions")],
            extraArguments: ["--rate-limit-burst", "30", "--rate-limit-per-second", "0.01"]
        ) { agent in
            let token = [("Authorization", "Bearer \(BinaryAgent.token)")]
            func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: String = "")
                async throws -> RawHTTPResponse
            {
                try await RawHTTP.send(
                    port: agent.port,
                    method: method,
                    path: path,
                    headers: headers,
                    body: Array(body.utf8)
                )
            }
            var seen: [(ProblemKind, RawHTTPResponse)] = []
            seen.append((.badToken, try await send("GET", "/v1/actions")))
            seen.append((.unknownAction, try await send("POST", "/v1/actions/no_such/run", headers: token)))
            seen.append((.notFound, try await send("GET", "/v1/nothing", headers: token)))
            seen.append((.methodNotAllowed, try await send("DELETE", "/v1/actions", headers: token)))
            seen.append(
                (
                    .badRequest,
                    try await send(
                        "POST",
                        "/v1/actions/test_echo/run",
                        headers: token + [("Content-Type", "application/json")],
                        body: "{"
                    )
                )
            )
            seen.append(
                (
                    .bodyTooLarge,
                    try await send(
                        "POST",
                        "/v1/actions/test_echo/run",
                        headers: token + [("Content-Type", "application/json")],
                        body: String(repeating: " ", count: 5000)
                    )
                )
            )
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                group.addTask { try await agent.run("test_slow") }
                let started = try await agent.eventually {
                    FileManager.default.fileExists(atPath: work.file("started"))
                }
                #expect(started)
                seen.append((.lockHeld, try await agent.run("test_slow")))
                _ = FileManager.default.createFile(atPath: gate, contents: nil)
                _ = try await group.next()
            }
            // The client's bucket (30) runs dry.
            var limited: RawHTTPResponse?
            for _ in 0..<40 where limited == nil {
                let reply = try await agent.get("/v1/actions")
                if reply.status == 429 { limited = reply }
            }
            seen.append((.rateLimited, try #require(limited)))

            for (kind, response) in seen {
                let body = try response.json()
                #expect(response.header("content-type") == "application/problem+json", "\(kind)")
                #expect(body["type"] as? String == "https://zumik.ai/problems/\(kind.rawValue)", "\(kind): \(body)")
                #expect(body["title"] as? String == kind.title)
                #expect(body["status"] as? Int == response.status)
                let message = (body["error"] as? [String: Any])?["message"] as? String
                #expect(message != nil && body["detail"] as? String == message, "\(kind): \(body)")
            }
        }
    }

    /// The monitor's client still reads the agent's refusal (its message, its status).
    @Test func agentClientReadsProblemDocuments() async throws {
        try await BinaryAgent.with(bundles: [Scrapes.agentBundle]) { agent in
            let client = AgentClient(
                configuration: .init(baseURL: "http://127.0.0.1:\(agent.port)", token: BinaryAgent.token),
                transport: CurlEngine(maxInFlight: 2)
            )
            await #expect(throws: AgentClientError.refused(status: 404, message: "unknown action", retryAfter: nil)) {
                _ = try await client.run(action: "no_such_action", reason: "test", incident: nil, timeout: .seconds(5))
            }
        }
    }
}
