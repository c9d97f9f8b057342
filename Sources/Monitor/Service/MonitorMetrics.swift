public import Foundation
import Probing
public import Prometheus

/// The monitor's metrics, each with its HELP text: the per-property families in a ``SeriesCollector``, the
/// others in a Prometheus registry (the control API's `/metrics` emits both). Names follow Prometheus
/// conventions (`docs/architecture.md`): `zumik_monitor_…`, counters end in `_total`, durations are seconds and
/// end in `_seconds`, timestamps are Unix seconds.
///
/// - `zumik_monitor_probes_total{property, outcome}`: probes by outcome (healthy/degraded/down);
/// - `zumik_monitor_probe_duration_seconds{property, phase}`: histogram per phase (`dns`, `connect`, `tls`,
///   `first_byte`: each phase's own time; `total`: the whole probe);
/// - `zumik_monitor_property_state{property, state}`: 1 for the property's confirmed state, 0 for the others;
/// - `zumik_monitor_certificate_expiry_timestamp_seconds{property}`: `notAfter` of the leaf certificate;
/// - `zumik_monitor_transitions_total{property, to}`: confirmed transitions;
/// - `zumik_monitor_open_incidents`: incidents currently open;
/// - `zumik_monitor_last_cycle_timestamp_seconds`: when the scheduling loop last ran (stalls show here);
/// - `zumik_monitor_cycle_duration_seconds`: histogram of probe cycles' wall times (``ProbeCycle``);
/// - `zumik_monitor_remediation_rounds_total{property}`, `zumik_monitor_remediation_actions_total{property,
///   action}`, `zumik_monitor_pages_total{property}`: remediation, as journaled;
/// - the outbox (set at each scrape, ``outbox(_:now:)``): `zumik_monitor_outbox_pending`,
///   `zumik_monitor_outbox_oldest_pending_age_seconds`, `zumik_monitor_outbox_parked`;
/// - the pager's (``PagerHealth``) and the build's (`zumik_monitor_build_info{version}`).
public struct MonitorMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The families with one series per property (``PropertyFamilies``), kept out of the registry: adding a label
    /// set there copies the family's table, which made registering thousands of properties quadratic.
    let series = SeriesCollector()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// A metric's full name and its HELP text.
    static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Probe phases are short; the top buckets catch timeouts.
    static let phaseBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
    ]

    func probe(_ result: ProbeResult) {
        series.increment(Self.probes, [result.property, result.health.rawValue])
        for (phase, seconds) in Self.phases(result.timings) {
            series.record(Self.probeDuration, [result.property, phase], .nanoseconds(Int64((seconds * 1e9).rounded())))
        }
        if let expiry = result.certificateExpiry {
            series.set(Self.certificateExpiry, [result.property], to: expiry.timeIntervalSince1970)
        }
    }

    /// Each phase's own duration in seconds, from libcurl's cumulative times (a phase that did not happen,
    /// such as TLS on plain HTTP, is left out).
    static func phases(_ t: PhaseTimings) -> [(String, Double)] {
        var phases = [("dns", t.dnsMs)]
        if t.connectMs > 0 { phases.append(("connect", t.connectMs - t.dnsMs)) }
        let secured = t.tlsMs > 0 ? t.tlsMs : t.connectMs
        if t.tlsMs > 0 { phases.append(("tls", t.tlsMs - t.connectMs)) }
        if t.firstByteMs > 0 { phases.append(("first_byte", t.firstByteMs - secured)) }
        phases.append(("total", t.totalMs))
        return phases.map { ($0.0, max($0.1, 0) / 1000) }
    }

    func state(_ property: String, _ health: Health) {
        for state in Health.allCases {
            series.set(Self.propertyState, [property, state.rawValue], to: state == health ? 1 : 0)
        }
    }

    func transition(_ property: String, to: Health) {
        series.increment(Self.transitions, [property, to.rawValue])
    }

    func openIncidents(_ count: Int) {
        registry.makeGauge(
            descriptor: MonitorMetrics.metric("zumik_monitor_open_incidents", "Incidents currently open.")
        ).set(to: Double(count))
    }

    func cycle(at now: Date) {
        registry.makeGauge(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_last_cycle_timestamp_seconds",
                "When the monitor's scheduling loop last ran, as a Unix timestamp (it runs at least every second)."
            )
        ).set(to: now.timeIntervalSince1970)
    }

    // MARK: Remediation

    /// Rounds spent on a property's incidents (each remediation action costs one).
    public func remediationRounds(_ property: String, _ rounds: Int) {
        series.increment(Self.remediationRounds, [property], by: Int64(rounds))
    }

    /// An action sent to the ops-agent for a property.
    public func remediationAction(_ property: String, action: String) {
        series.increment(Self.remediationActions, [property, action])
    }

    /// The on-call human paged for a property's incident (at most once per incident).
    public func paged(_ property: String) {
        series.increment(Self.pages, [property])
    }

    // MARK: Outbox

    /// The outbox as the store sees it now (set before each scrape).
    public func outbox(_ backlog: OutboxBacklog, now: Date) {
        registry.makeGauge(
            descriptor: MonitorMetrics.metric("zumik_monitor_outbox_pending", "Alert messages waiting for delivery.")
        )
        .set(to: Double(backlog.pending))
        registry.makeGauge(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_outbox_oldest_pending_age_seconds",
                "Age of the oldest alert message waiting for delivery (0 when none waits)."
            )
        ).set(to: backlog.oldestPending.map { max(now.timeIntervalSince($0), 0) } ?? 0)
        registry.makeGauge(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_outbox_parked",
                "Alert messages parked as failed (zumik-monitor outbox list / retry)."
            )
        ).set(to: Double(backlog.parked))
    }

    /// `zumik_monitor_build_info{version} 1`.
    public func buildInfo(version: String) {
        registry.makeGauge(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_build_info",
                "Always 1; the running monitor's version as a label."
            ),
            labels: [("version", version)]
        ).set(to: 1)
    }
}

/// The outbox's backlog: what waits for delivery, and what was parked.
public struct OutboxBacklog: Sendable, Hashable {
    public var pending: Int
    public var oldestPending: Date?
    public var parked: Int

    public init(pending: Int, oldestPending: Date?, parked: Int) {
        self.pending = pending
        self.oldestPending = oldestPending
        self.parked = parked
    }
}
