/// The metric families with one series per property (``SeriesCollector``), with their HELP texts, label names
/// and buckets.
extension MonitorMetrics {
    typealias Family = SeriesCollector.Family

    static let probes = Family(
        name: "zumik_monitor_probes_total",
        help: "Probes run, by property and classified outcome (healthy, degraded, down).",
        kind: .counter,
        labels: ["property", "outcome"]
    )
    static let probeDuration = Family(
        name: "zumik_monitor_probe_duration_seconds",
        help: "Probe time by phase: dns, connect, tls, first_byte (each phase alone) and total.",
        kind: .histogram(buckets: phaseBuckets),
        labels: ["property", "phase"]
    )
    static let certificateExpiry = Family(
        name: "zumik_monitor_certificate_expiry_timestamp_seconds",
        help: "notAfter of the property's TLS leaf certificate, as a Unix timestamp.",
        kind: .gauge,
        labels: ["property"]
    )
    static let propertyState = Family(
        name: "zumik_monitor_property_state",
        help: "1 for the property's confirmed (debounced) state, 0 for the other states.",
        kind: .gauge,
        labels: ["property", "state"]
    )
    static let transitions = Family(
        name: "zumik_monitor_transitions_total",
        help: "Confirmed state transitions, by property and new state.",
        kind: .counter,
        labels: ["property", "to"]
    )
    static let remediationRounds = Family(
        name: "zumik_monitor_remediation_rounds_total",
        help: "Remediation rounds spent, by property.",
        kind: .counter,
        labels: ["property"]
    )
    static let remediationActions = Family(
        name: "zumik_monitor_remediation_actions_total",
        help: "Actions sent to the ops-agent by remediation, by property and action id.",
        kind: .counter,
        labels: ["property", "action"]
    )
    static let pages = Family(
        name: "zumik_monitor_pages_total",
        help: "Pages queued for the on-call human, by property.",
        kind: .counter,
        labels: ["property"]
    )
    static let liveLocations = Family(
        name: "zumik_monitor_live_locations",
        help: "Live locations (recent heartbeat) counted by the property's last recorded result.",
        kind: .gauge,
        labels: ["property"]
    )
    static let belowQuorum = Family(
        name: "zumik_monitor_location_below_quorum",
        help: "1 while the location sees the property failing and the quorum does not (an advisory is out).",
        kind: .gauge,
        labels: ["property", "location"]
    )
}
