import Foundation
import Testing
import ZumikTestSupport

/// The real monitor's `/metrics`, after probes of a healthy and a down property, as Prometheus's own linter
/// reads it.
@Suite(
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
    .enabled(if: Promtool.isAvailable, "promtool is missing (Debian's prometheus package, scripts/setup.sh)")
)
struct MonitorMetricsExportTests {
    @Test func promtoolFindsNothingToComplainAbout() async throws {
        try await Scrapes.monitor { _, exposition in
            let lint = try Promtool.checkMetrics(exposition)
            #expect(lint.status == 0 && lint.text.isEmpty, "promtool check metrics:\n\(lint.text)\n\(exposition)")
            let families = Promtool.families(exposition)
            for name in Scrapes.monitorFamilies {
                #expect(families.contains(name), "\(name) is not exported")
            }
            #expect(exposition.contains(#"zumik_monitor_property_state{property="web",state="healthy"} 1"#))
            #expect(exposition.contains(#"zumik_monitor_property_state{property="web",state="down"} 0"#))
            #expect(exposition.contains(#"zumik_monitor_probe_duration_seconds_count{property="web",phase="connect"}"#))
            #expect(exposition.contains(#"zumik_monitor_probes_total{property="gone",outcome="down"}"#))
            for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(!line.hasPrefix("zumik_") || line.hasPrefix("zumik_monitor_"), "\(line)")
            }
        }
    }
}
