import Foundation
import Testing
import ZumikTestSupport

/// `OPS_AGENT_METRICS_TOKEN`: Prometheus scrapes with a credential that can do nothing else.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct MetricsTokenTests {
    static let metricsToken = "metrics-only-token-0123456789"

    @Test func metricsTokenReadsMetricsAndIsRefusedEverywhereElse() async throws {
        try await BinaryAgent.with(
            bundles: [Scrapes.agentBundle],
            environment: ["OPS_AGENT_METRICS_TOKEN": Self.metricsToken, "ZUMIK_RATE_LIMIT_BURST": "1000"]
        ) { agent in
            let scrape = try await RawHTTP.get(port: agent.port, "/metrics", token: Self.metricsToken)
            #expect(scrape.status == 200)
            #expect(String(decoding: scrape.body, as: UTF8.self).contains("zumik_agent_build_info"))
            // Every privileged route refuses it exactly as it refuses a wrong token.
            let mcp = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
            let refused: [(String, String, String)] = [
                ("GET", "/v1/actions", ""), ("GET", "/v1/audit", ""), ("POST", "/v1/actions/test_echo/run", "{}"),
                ("POST", "/mcp", mcp),
            ]
            for (method, path, body) in refused {
                let reply = try await RawHTTP.send(
                    port: agent.port,
                    method: method,
                    path: path,
                    headers: [("Authorization", "Bearer \(Self.metricsToken)"), ("Content-Type", "application/json")],
                    body: Array(body.utf8)
                )
                #expect(reply.status == 401, "\(method) \(path) answered \(reply.status)")
            }
            // Nothing ran; the action token still reads /metrics.
            #expect(!(try agent.auditRecords().contains { $0["outcome"] as? String == "succeeded" }))
            #expect(try await agent.get("/metrics").status == 200)
        }
    }
}
