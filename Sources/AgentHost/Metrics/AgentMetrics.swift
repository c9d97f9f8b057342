import ActionKit
public import Prometheus
import Synchronization

/// The agent's metrics, in a Prometheus registry (`/metrics` emits it), each with its HELP text. Names follow
/// Prometheus conventions (`docs/architecture.md`): `zumik_agent_…`, counters end in `_total`, durations are
/// seconds; the process's own are the standard `process_…` names (``ProcessStats``).
///
/// - `zumik_agent_http_requests_total{route, method, status}`, `zumik_agent_http_request_duration_seconds{route}`;
/// - `zumik_agent_action_runs_total{action, outcome}`, `zumik_agent_action_duration_seconds{action}`,
///   `zumik_agent_action_refusals_total{action, outcome}`;
/// - at each scrape (``refresh(catalog:auditWriteFailures:)``): `zumik_agent_bundles_loaded`,
///   `zumik_agent_bundles_refused`, `zumik_agent_actions_loaded`, `zumik_agent_audit_write_failures_total`,
///   and the process metrics;
/// - `zumik_agent_build_info{version}`.
public struct AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// What the cumulative counters set at scrape time last reported (they only ever grow by the difference).
    private let reported = Reported()

    final class Reported: Sendable {
        struct Totals {
            var auditWriteFailures = 0
            var cpuSeconds = 0.0
        }
        let totals = Mutex(Totals())
    }

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        registry.makeGauge(
            descriptor: AgentMetrics.metric(
                "zumik_agent_build_info",
                "Always 1; the running agent's version as a label."
            ),
            labels: [("version", AgentHost.version)]
        ).set(to: 1)
    }

    /// A metric's full name and its HELP text.
    static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static let requestBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
    ]
    static let actionBuckets: [Duration] = [
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300),
        .seconds(600),
    ]

    func request(route: String, method: String, status: Int, since start: ContinuousClock.Instant) {
        registry.makeCounter(
            descriptor: AgentMetrics.metric(
                "zumik_agent_http_requests_total",
                "HTTP requests answered, by route, method and status code."
            ),
            labels: [("route", route), ("method", method), ("status", "\(status)")]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: AgentMetrics.metric(
                "zumik_agent_http_request_duration_seconds",
                "Time to answer an HTTP request, by route (a run's answer includes the action)."
            ),
            labels: [("route", route)],
            buckets: Self.requestBuckets
        ).record(start.duration(to: .now))
    }

    func actionRun(action: String, outcome: String, durationMs: Int) {
        registry.makeCounter(
            descriptor: AgentMetrics.metric(
                "zumik_agent_action_runs_total",
                "Action runs, by action id and outcome (ok, failed, timeout, ...)."
            ),
            labels: [("action", action), ("outcome", outcome)]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: AgentMetrics.metric(
                "zumik_agent_action_duration_seconds",
                "How long action runs took, by action id."
            ),
            labels: [("action", action)],
            buckets: Self.actionBuckets
        ).record(.milliseconds(durationMs))
    }

    func actionRefused(action: String, outcome: String) {
        registry.makeCounter(
            descriptor: AgentMetrics.metric(
                "zumik_agent_action_refusals_total",
                "Run requests refused before running, by action id and reason (locked, cooldown, ...)."
            ),
            labels: [("action", action), ("outcome", outcome)]
        ).increment()
    }

    /// Sets what is read rather than counted: the catalog, the audit log's failures and the process.
    func refresh(catalog: AgentAPI.Catalog, auditWriteFailures: Int) {
        let bundles = Set(catalog.actions.map(\.bundle.id))
        gauge("zumik_agent_bundles_loaded", "Signed bundles loaded and offering actions.", Double(bundles.count))
        gauge(
            "zumik_agent_bundles_refused",
            "Bundles refused at the last (re)load (GET /v1/actions says why).",
            Double(catalog.refusedBundles.count)
        )
        gauge(
            "zumik_agent_actions_loaded",
            "Actions on the allowlist, from loaded bundles.",
            Double(catalog.actions.count)
        )
        let process = ProcessStats.read()
        let (auditDelta, cpuDelta) = reported.totals.withLock { last in
            let audit = max(auditWriteFailures - last.auditWriteFailures, 0)
            last.auditWriteFailures = max(auditWriteFailures, last.auditWriteFailures)
            let cpu = max((process?.cpuSeconds ?? last.cpuSeconds) - last.cpuSeconds, 0)
            last.cpuSeconds += cpu
            return (audit, cpu)
        }
        registry.makeCounter(
            descriptor: AgentMetrics.metric(
                "zumik_agent_audit_write_failures_total",
                "Audit log writes that failed (the request was answered 503 and nothing ran)."
            )
        ).increment(by: Int64(auditDelta))
        guard let process else { return }
        registry.makeCounter(
            descriptor: AgentMetrics.metric(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds."
            )
        )
        .increment(by: cpuDelta)
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.", Double(process.residentBytes))
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", Double(process.virtualBytes))
        gauge("process_open_fds", "Number of open file descriptors.", Double(process.openFDs))
        gauge("process_max_fds", "Maximum number of open file descriptors.", Double(process.maxFDs))
        gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", process.startTime)
    }

    /// Sets the unlabeled gauge `name`.
    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(descriptor: AgentMetrics.metric(name, help)).set(to: value)
    }
}
