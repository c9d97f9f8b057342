public import CoreMetrics
import Foundation
import Probing

/// The monitor's metrics, through an injected swift-metrics factory (the executable passes a
/// `PrometheusMetricsFactory`; tests pass their own).
///
/// - `zumik_monitor_probes_total{property, outcome}`: probes by outcome (healthy/degraded/down);
/// - `zumik_monitor_probe_duration_seconds{property, outcome}`: total probe time;
/// - `zumik_monitor_open_incidents`: incidents currently open;
/// - `zumik_monitor_transitions_total{property, to}`: confirmed transitions.
public struct MonitorMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) { self.factory = factory }

    func probe(_ result: ProbeResult) {
        let dimensions = [("property", result.property), ("outcome", result.health.rawValue)]
        Counter(label: "zumik_monitor_probes_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "zumik_monitor_probe_duration_seconds", dimensions: dimensions, factory: factory)
            .recordNanoseconds(Int64(result.timings.totalMs * 1_000_000))
    }

    func transition(_ property: String, to: Health) {
        Counter(
            label: "zumik_monitor_transitions_total",
            dimensions: [("property", property), ("to", to.rawValue)],
            factory: factory
        ).increment()
    }

    func openIncidents(_ count: Int) {
        Gauge(label: "zumik_monitor_open_incidents", dimensions: [], factory: factory).record(count)
    }
}
