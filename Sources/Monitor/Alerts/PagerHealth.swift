public import Foundation
public import Prometheus
import Synchronization

/// Whether alerts and pages can reach the on-call human, as the sender last saw it. Shared by the sender
/// (which reports), the control API's `/healthz` and the status report (which show it).
///
/// The pager is *broken* when Discord refused a page even in its minimal form, or refused any message with
/// 401, 403 or 404 (the webhook itself is wrong or was deleted). The next delivered message clears it.
///
/// Metrics: `zumik_monitor_pager_broken` (gauge, 1 while broken), `zumik_monitor_alerts_parked_total{kind}`
/// (messages parked as failed), `zumik_monitor_pages_minimal_total` (pages delivered in their minimal form),
/// `zumik_monitor_alerts_delivered_total{kind}` and `zumik_monitor_delivery_failures_total{kind, reason}`
/// (`rate_limited`, `server_error`, `refused`, `network`).
public final class PagerHealth: Sendable {
    /// What the status report and `/healthz` show.
    public struct Report: Sendable, Hashable, Codable {
        /// `ok` or `broken`.
        public var state: String
        /// Why it is broken, and how to fix it (no secret: the webhook URL is never included).
        public var error: String?
        public var since: Date?

        public var isBroken: Bool { state == "broken" }
    }

    private let state = Mutex(Report(state: "ok", error: nil, since: nil))
    private let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        gauge.set(to: 0)
        // Counted from zero, so a rate is defined (and the series exist) before the first event.
        _ = minimalPages
        for kind in Self.outboxKinds { _ = parkedAlerts(kind: kind) }
    }

    /// The kinds of outbox message (`transition`, `remediation` notices, `page`).
    static let outboxKinds = ["transition", "remediation", "page"]

    public var report: Report { state.withLock { $0 } }

    private var gauge: Gauge {
        registry.makeGauge(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_pager_broken",
                "1 while alerts and pages cannot reach the on-call human (Discord refuses them), else 0."
            )
        )
    }

    func delivered() {
        let wasBroken = state.withLock { report in
            defer { report = Report(state: "ok", error: nil, since: nil) }
            return report.isBroken
        }
        if wasBroken { gauge.set(to: 0) }
    }

    func deliveredAlert(kind: String) {
        registry.makeCounter(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_alerts_delivered_total",
                "Alert messages Discord (or the console) took, by kind (transition, remediation, page, ...)."
            ),
            labels: [("kind", kind)]
        ).increment()
    }

    /// A delivery attempt that failed: `rate_limited`, `server_error` and `network` are retried, `refused`
    /// is parked (or re-sent minimal, for a page).
    func deliveryFailed(kind: String, reason: String) {
        registry.makeCounter(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_delivery_failures_total",
                "Failed alert delivery attempts, by kind and reason (rate_limited, server_error, refused, network)."
            ),
            labels: [("kind", kind), ("reason", reason)]
        ).increment()
    }

    func parked(kind: String) {
        parkedAlerts(kind: kind).increment()
    }

    func deliveredMinimal() {
        minimalPages.increment()
    }

    private func parkedAlerts(kind: String) -> Counter {
        registry.makeCounter(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_alerts_parked_total",
                "Alert messages parked as failed after Discord refused them, by kind."
            ),
            labels: [("kind", kind)]
        )
    }

    private var minimalPages: Counter {
        registry.makeCounter(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_pages_minimal_total",
                "Pages delivered in their minimal form after Discord refused the full one."
            )
        )
    }

    func broken(_ error: String, at now: Date) {
        state.withLock { report in
            report = Report(state: "broken", error: error, since: report.since ?? now)
        }
        gauge.set(to: 1)
    }
}
