import Foundation
import Testing
import ZumikTestSupport

/// The real agent's `/metrics`, after some traffic, as Prometheus's own linter reads it.
@Suite(
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(if: Promtool.isAvailable, "promtool is missing (Debian's prometheus package, scripts/setup.sh)")
)
struct AgentMetricsExportTests {
    @Test func promtoolFindsNothingToComplainAbout() async throws {
        try await BinaryAgent.with(bundles: [Scrapes.agentBundle]) { agent in
            let exposition = try await Scrapes.agent(agent)
            let lint = try Promtool.checkMetrics(exposition)
            #expect(lint.status == 0 && lint.text.isEmpty, "promtool check metrics:\n\(lint.text)\n\(exposition)")
            let families = Promtool.families(exposition)
            for name in Scrapes.agentFamilies {
                #expect(families.contains(name), "\(name) is not exported")
            }
            #expect(exposition.contains(#"zumik_agent_action_runs_total{action="test_echo",outcome="succeeded"} 1"#))
            #expect(exposition.contains("zumik_agent_bundles_loaded 1"))
            for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(!line.hasPrefix("zumik_") || line.hasPrefix("zumik_agent_"), "\(line)")
            }
        }
    }
}
