import Foundation
import Testing
import ZumikTestSupport

/// `zumik-monitor validate` refuses configs that parse but cannot work: a remediable property whose host has
/// no agent URL or token, and paging (remediable properties) without `DISCORD_ALERT_USER_ID`.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct ValidateReadinessTests {
    static let config = """
        properties:
          - name: api-core
            url: https://api.example/healthz
            host: default
            service: api-core
          - name: docs
            url: https://docs.example/
            alert_only: true
        """

    func validate(_ env: [String: String]) throws -> (Int32, String) {
        let dir = try TempDir()
        let path = dir.url.appendingPathComponent("monitor.yaml").path
        try Self.config.write(toFile: path, atomically: true, encoding: .utf8)
        return try CommandLineTests.run(["validate", path], env: ["PATH": "/usr/bin:/bin"].merging(env) { $1 })
    }

    @Test("a remediable property whose host has no agent URL or token is refused, naming both")
    func missingAgentIsRefused() throws {
        let (status, output) = try validate(["DISCORD_ALERT_USER_ID": "123456789012345678"])
        #expect(status == 2, "\(output)")
        #expect(
            output.contains(
                "monitor.yaml: properties[0].host: property api-core is remediable through host "
                    + "default, which has no agent URL: set OPS_AGENT_URL"
            ),
            "\(output)"
        )
        #expect(output.contains("which has no agent token: set OPS_AGENT_TOKEN"), "\(output)")
        #expect(!output.contains("docs"), "\(output)")
    }

    @Test("paging without DISCORD_ALERT_USER_ID is refused; with everything set the file is ok")
    func pagingNeedsAUser() throws {
        let agent = ["OPS_AGENT_URL": "http://127.0.0.1:8787", "OPS_AGENT_TOKEN": "agent-token-SECRET-0123456789"]
        let (status, output) = try validate(agent)
        #expect(status == 2, "\(output)")
        #expect(output.contains("environment: DISCORD_ALERT_USER_ID: required"), "\(output)")
        #expect(output.contains("api-core"), "\(output)")
        #expect(!output.contains("SECRET"), "\(output)")
        let (ok, good) = try validate(agent.merging(["DISCORD_ALERT_USER_ID": "123456789012345678"]) { $1 })
        #expect(ok == 0, "\(good)")
        #expect(good.contains("ok (2 properties, 1 remediable"), "\(good)")
    }
}
