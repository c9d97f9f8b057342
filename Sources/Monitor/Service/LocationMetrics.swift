import CoreMetrics
import Probing

/// The locations' metrics (issue 13):
///
/// - `zumik_monitor_location_below_quorum{property, location}`: 1 while that location sees the property failing
///   and the quorum does not (an advisory is out), 0 once it clears;
/// - `zumik_monitor_live_locations{property}`: the live locations the last result of the property counted.
extension MonitorMetrics {
    func quorum(_ property: String, _ decision: QuorumDecision, advisory: LocationAdvisory?) {
        Gauge(label: "zumik_monitor_live_locations", dimensions: [("property", property)], factory: factory)
            .record(decision.live.count)
        guard let advisory else { return }
        Gauge(
            label: "zumik_monitor_location_below_quorum",
            dimensions: [("property", property), ("location", advisory.location)],
            factory: factory
        ).record(advisory.kind == .failingAlone ? 1 : 0)
    }
}
