import Foundation
import Prometheus

/// The locations' metrics (issue 13):
///
/// - `zumik_monitor_location_below_quorum{property, location}`: 1 while that location sees the property failing
///   and the quorum does not (an advisory is out), 0 once it clears;
/// - `zumik_monitor_live_locations{property}`: the live locations the last result of the property counted;
/// - `zumik_monitor_location_live{location}`: 1 while the location's heartbeat is recent (it is in the quorum),
///   0 once it is silent; set once per cycle from the fleet's heartbeats.
extension MonitorMetrics {
    func quorum(_ property: String, _ decision: QuorumDecision, advisory: LocationAdvisory?) {
        series.set(Self.liveLocations, [property], to: Double(decision.live.count))
        guard let advisory else { return }
        series.set(Self.belowQuorum, [property, advisory.location], to: advisory.kind == .failingAlone ? 1 : 0)
    }
}

extension MonitorMetrics {
    func locations(_ locations: [LocationHeartbeat], now: Date, window: TimeInterval) {
        for location in locations {
            registry.makeGauge(
                descriptor: MonitorMetrics.metric(
                    "zumik_monitor_location_live",
                    "1 while the location's heartbeat is recent (it is in the quorum), 0 once it is silent."
                ),
                labels: [("location", location.name)]
            ).set(to: location.isLive(at: now, window: window) ? 1 : 0)
        }
    }
}
