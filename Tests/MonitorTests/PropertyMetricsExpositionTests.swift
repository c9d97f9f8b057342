import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Probing
import Prometheus
import Testing
import ZumikTestSupport

@testable import Monitor

/// The per-property metric families (one series per property and label: probes, phase histograms, states,
/// transitions, certificates, remediation, locations) as `/metrics` shows them, for a fixed set of observations.
@Suite struct PropertyMetricsExpositionTests {
    /// The families with one series per property.
    static let perProperty = [
        "zumik_monitor_probes_total", "zumik_monitor_probe_duration_seconds", "zumik_monitor_property_state",
        "zumik_monitor_certificate_expiry_timestamp_seconds", "zumik_monitor_transitions_total",
        "zumik_monitor_remediation_rounds_total", "zumik_monitor_remediation_actions_total",
        "zumik_monitor_pages_total", "zumik_monitor_live_locations", "zumik_monitor_location_below_quorum",
    ]

    /// A property name with every character the exposition format escapes in a label value.
    static let odd = "we\"ird\\name\nx"

    static func observe(_ metrics: MonitorMetrics) {
        func probe(_ property: String, _ health: Health, _ timings: PhaseTimings, expiry: Date? = nil) {
            metrics.probe(
                ProbeResult(
                    property: property,
                    url: "https://probe.invalid/",
                    at: Date(timeIntervalSince1970: 1_700_000_000),
                    health: health,
                    timings: timings,
                    certificateExpiry: expiry
                )
            )
        }
        probe(
            "web",
            .healthy,
            PhaseTimings(dnsMs: 1, connectMs: 3, tlsMs: 10, firstByteMs: 30, totalMs: 42),
            expiry: Date(timeIntervalSince1970: 1_800_000_000.5)
        )
        probe("web", .healthy, PhaseTimings(dnsMs: 0.5, connectMs: 2, firstByteMs: 7, totalMs: 7.25))
        probe("gone", .down, PhaseTimings(dnsMs: 0.2, totalMs: 3000))
        probe(odd, .degraded, PhaseTimings(dnsMs: 4, connectMs: 9, firstByteMs: 900, totalMs: 12_000))
        metrics.state("web", .healthy)
        metrics.state("gone", .healthy)
        metrics.state("gone", .down)
        metrics.state(odd, .degraded)
        metrics.transition("gone", to: .down)
        metrics.transition("gone", to: .down)
        metrics.transition(odd, to: .degraded)
        metrics.remediationRounds("gone", 2)
        metrics.remediationRounds("gone", 1)
        metrics.remediationAction("gone", action: "restart_nginx")
        metrics.paged("gone")
        let decision = QuorumDecision(health: .healthy, live: ["a", "b"], failing: ["a"], required: 2)
        metrics.quorum(
            "gone",
            decision,
            advisory: LocationAdvisory(
                kind: .failingAlone,
                location: "a",
                sees: .down,
                since: .distantPast,
                decision: decision
            )
        )
        metrics.quorum("web", QuorumDecision(health: .healthy, live: ["a"], failing: [], required: 1), advisory: nil)
    }

    static func scrape(_ observe: (MonitorMetrics) -> Void) async throws -> String {
        let dir = try TempDir()
        let config = MonitorConfig(
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "web", url: "http://127.0.0.1:9/")]
        )
        let runtime = try MonitorRuntime(
            config: config,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        observe(runtime.monitor.metrics)
        let router = ControlAPI.router(monitor: runtime.monitor, token: nil, registry: runtime.registry)
        return try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
    }

    /// The family a line belongs to (a histogram's `_bucket`, `_sum` and `_count` samples are its family's), if
    /// it is one of ``perProperty``.
    static func family(of line: Substring) -> String? {
        let name: Substring
        if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
            name = line.split(separator: " ")[2]
        } else {
            name = line.prefix { $0 != "{" && $0 != " " }
        }
        for family in perProperty where name == family { return family }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if perProperty.contains(base) { return base }
        }
        return nil
    }

    /// The exposition lines of the per-property families, what swift-prometheus's registry wrote for
    /// ``observe(_:)`` when it still held them (main at 7f645f8, sorted; order within the text is not part of the
    /// format).
    @Test func theExpositionOfAFixedSetOfObservationsIsTheRegistrysLineForLine() async throws {
        let text = try await Self.scrape(Self.observe)
        let lines = text.split(separator: "\n")
        let ours = lines.filter { Self.family(of: $0) != nil }.map(String.init).sorted()
        let golden = Self.golden.split(separator: "\n").map(String.init)
        #expect(ours == golden, "\(Set(ours).symmetricDifference(golden).sorted())")
        // Each family: HELP, then TYPE, then its samples, together (the text format's grouping).
        var seen: [String] = []
        var current: String?
        for line in lines {
            guard let family = Self.family(of: line) else {
                current = nil
                continue
            }
            if line.hasPrefix("# HELP ") {
                #expect(!seen.contains(family), "\(family) appears twice")
                seen.append(family)
                current = family
            } else if line.hasPrefix("# TYPE ") {
                #expect(current == family, "TYPE of \(family) not right after its HELP")
            } else {
                #expect(current == family, "\(line) is not under its family's HELP and TYPE")
            }
        }
        #expect(Set(seen) == Set(Self.perProperty))
    }

    /// Registering a label set in swift-prometheus's registry copies the family's whole table, so one series per
    /// property there makes the first cycle quadratic in the number of properties (issue 16: ~18 s for 5,000).
    /// The per-property families are not in the registry; `/metrics` still shows them.
    @Test func thePerPropertyFamiliesAreNotInThePrometheusRegistry() async throws {
        let dir = try TempDir()
        let runtime = try MonitorRuntime(
            config: MonitorConfig(
                storePath: dir.dbPath,
                properties: [PropertyConfig(name: "web", url: "http://127.0.0.1:9/")]
            ),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        Self.observe(runtime.monitor.metrics)
        let registry = runtime.registry.emitToString()
        for family in Self.perProperty {
            #expect(!registry.contains("# TYPE \(family) "), "\(family) is registered in the Prometheus registry")
        }
        #expect(registry.contains("# TYPE zumik_monitor_build_info gauge"))
    }

    /// Probes recorded from many tasks at once, while `/metrics` is rendered: no update is lost and every series
    /// is made once.
    @Test func concurrentUpdatesAreAllCounted() async throws {
        let metrics = MonitorMetrics()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<500 {
                        metrics.probe(
                            ProbeResult(property: "p\(i % 50)", url: "", at: .distantPast, health: .healthy)
                        )
                        metrics.transition("t\(task)", to: .down)
                    }
                }
            }
            group.addTask {
                for _ in 0..<20 {
                    var buffer: [UInt8] = []
                    metrics.series.emit(into: &buffer)
                }
            }
        }
        var buffer: [UInt8] = []
        metrics.series.emit(into: &buffer)
        let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n")
        let probes = lines.filter { $0.hasPrefix("zumik_monitor_probes_total{") }
        #expect(probes.count == 50)
        #expect(probes.allSatisfy { $0.hasSuffix(" 80") }, "\(probes)")
        let totals = lines.filter { $0.hasPrefix(#"zumik_monitor_probe_duration_seconds_count{"#) }
        #expect(totals.count == 100 && totals.allSatisfy { $0.hasSuffix(" 80") }, "\(totals)")
        let transitions = lines.filter { $0.hasPrefix("zumik_monitor_transitions_total{") }
        #expect(transitions.count == 8 && transitions.allSatisfy { $0.hasSuffix(" 500") }, "\(transitions)")
    }

    static let golden = #"""
        # HELP zumik_monitor_certificate_expiry_timestamp_seconds notAfter of the property's TLS leaf certificate, as a Unix timestamp.
        # HELP zumik_monitor_live_locations Live locations (recent heartbeat) counted by the property's last recorded result.
        # HELP zumik_monitor_location_below_quorum 1 while the location sees the property failing and the quorum does not (an advisory is out).
        # HELP zumik_monitor_pages_total Pages queued for the on-call human, by property.
        # HELP zumik_monitor_probe_duration_seconds Probe time by phase: dns, connect, tls, first_byte (each phase alone) and total.
        # HELP zumik_monitor_probes_total Probes run, by property and classified outcome (healthy, degraded, down).
        # HELP zumik_monitor_property_state 1 for the property's confirmed (debounced) state, 0 for the other states.
        # HELP zumik_monitor_remediation_actions_total Actions sent to the ops-agent by remediation, by property and action id.
        # HELP zumik_monitor_remediation_rounds_total Remediation rounds spent, by property.
        # HELP zumik_monitor_transitions_total Confirmed state transitions, by property and new state.
        # TYPE zumik_monitor_certificate_expiry_timestamp_seconds gauge
        # TYPE zumik_monitor_live_locations gauge
        # TYPE zumik_monitor_location_below_quorum gauge
        # TYPE zumik_monitor_pages_total counter
        # TYPE zumik_monitor_probe_duration_seconds histogram
        # TYPE zumik_monitor_probes_total counter
        # TYPE zumik_monitor_property_state gauge
        # TYPE zumik_monitor_remediation_actions_total counter
        # TYPE zumik_monitor_remediation_rounds_total counter
        # TYPE zumik_monitor_transitions_total counter
        zumik_monitor_certificate_expiry_timestamp_seconds{property="web"} 1800000000.5
        zumik_monitor_live_locations{property="gone"} 2.0
        zumik_monitor_live_locations{property="web"} 1.0
        zumik_monitor_location_below_quorum{property="gone",location="a"} 1.0
        zumik_monitor_pages_total{property="gone"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.005"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.025"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.05"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.1"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.25"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="0.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="1.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="2.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="dns",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.005"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.01"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.025"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.05"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.1"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.25"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="0.5"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="1.0"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="2.5"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="gone",phase="total",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.005"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.025"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.05"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.1"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.25"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="0.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="1.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="2.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="connect",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.005"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.025"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.05"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.1"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.25"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="0.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="1.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="2.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="dns",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.005"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.01"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.025"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.05"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.1"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.25"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="0.5"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="1.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="2.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="first_byte",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.005"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.01"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.025"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.05"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.1"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.25"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="0.5"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="1.0"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="10.0"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="2.5"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="we\"ird\\name\nx",phase="total",le="5.0"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="+Inf"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.005"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.01"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.025"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.05"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.1"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.25"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="0.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="1.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="10.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="2.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="30.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="connect",le="5.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="+Inf"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.005"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.01"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.025"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.05"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.1"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.25"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="0.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="1.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="10.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="2.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="30.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="dns",le="5.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="+Inf"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.005"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.025"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.05"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.1"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.25"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="0.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="1.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="10.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="2.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="30.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="first_byte",le="5.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="+Inf"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.005"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.025"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.05"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.1"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.25"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="0.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="1.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="10.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="2.5"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="30.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="tls",le="5.0"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="+Inf"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.005"} 0
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.01"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.025"} 1
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.05"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.1"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.25"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="0.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="1.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="10.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="2.5"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="30.0"} 2
        zumik_monitor_probe_duration_seconds_bucket{property="web",phase="total",le="5.0"} 2
        zumik_monitor_probe_duration_seconds_count{property="gone",phase="dns"} 1
        zumik_monitor_probe_duration_seconds_count{property="gone",phase="total"} 1
        zumik_monitor_probe_duration_seconds_count{property="we\"ird\\name\nx",phase="connect"} 1
        zumik_monitor_probe_duration_seconds_count{property="we\"ird\\name\nx",phase="dns"} 1
        zumik_monitor_probe_duration_seconds_count{property="we\"ird\\name\nx",phase="first_byte"} 1
        zumik_monitor_probe_duration_seconds_count{property="we\"ird\\name\nx",phase="total"} 1
        zumik_monitor_probe_duration_seconds_count{property="web",phase="connect"} 2
        zumik_monitor_probe_duration_seconds_count{property="web",phase="dns"} 2
        zumik_monitor_probe_duration_seconds_count{property="web",phase="first_byte"} 2
        zumik_monitor_probe_duration_seconds_count{property="web",phase="tls"} 1
        zumik_monitor_probe_duration_seconds_count{property="web",phase="total"} 2
        zumik_monitor_probe_duration_seconds_sum{property="gone",phase="dns"} 0.0002
        zumik_monitor_probe_duration_seconds_sum{property="gone",phase="total"} 3.0
        zumik_monitor_probe_duration_seconds_sum{property="we\"ird\\name\nx",phase="connect"} 0.005
        zumik_monitor_probe_duration_seconds_sum{property="we\"ird\\name\nx",phase="dns"} 0.004
        zumik_monitor_probe_duration_seconds_sum{property="we\"ird\\name\nx",phase="first_byte"} 0.891
        zumik_monitor_probe_duration_seconds_sum{property="we\"ird\\name\nx",phase="total"} 12.0
        zumik_monitor_probe_duration_seconds_sum{property="web",phase="connect"} 0.0035
        zumik_monitor_probe_duration_seconds_sum{property="web",phase="dns"} 0.0015
        zumik_monitor_probe_duration_seconds_sum{property="web",phase="first_byte"} 0.025
        zumik_monitor_probe_duration_seconds_sum{property="web",phase="tls"} 0.007
        zumik_monitor_probe_duration_seconds_sum{property="web",phase="total"} 0.04925
        zumik_monitor_probes_total{property="gone",outcome="down"} 1
        zumik_monitor_probes_total{property="we\"ird\\name\nx",outcome="degraded"} 1
        zumik_monitor_probes_total{property="web",outcome="healthy"} 2
        zumik_monitor_property_state{property="gone",state="degraded"} 0.0
        zumik_monitor_property_state{property="gone",state="down"} 1.0
        zumik_monitor_property_state{property="gone",state="healthy"} 0.0
        zumik_monitor_property_state{property="we\"ird\\name\nx",state="degraded"} 1.0
        zumik_monitor_property_state{property="we\"ird\\name\nx",state="down"} 0.0
        zumik_monitor_property_state{property="we\"ird\\name\nx",state="healthy"} 0.0
        zumik_monitor_property_state{property="web",state="degraded"} 0.0
        zumik_monitor_property_state{property="web",state="down"} 0.0
        zumik_monitor_property_state{property="web",state="healthy"} 1.0
        zumik_monitor_remediation_actions_total{property="gone",action="restart_nginx"} 1
        zumik_monitor_remediation_rounds_total{property="gone"} 3
        zumik_monitor_transitions_total{property="gone",to="down"} 2
        zumik_monitor_transitions_total{property="we\"ird\\name\nx",to="degraded"} 1
        """#
}
