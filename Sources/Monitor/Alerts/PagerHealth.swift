public import CoreMetrics
public import Foundation
import Synchronization

/// Whether alerts and pages can reach the on-call human, as the sender last saw it. Shared by the sender
/// (which reports), the control API's `/healthz` and the status report (which show it).
///
/// The pager is *broken* when Discord refused a page even in its minimal form, or refused any message with
/// 401, 403 or 404 (the webhook itself is wrong or was deleted). The next delivered message clears it.
///
/// Metrics: `zumik_monitor_pager_broken` (gauge, 1 while broken), `zumik_monitor_alerts_parked_total{kind}`
/// (messages parked as failed), `zumik_monitor_pages_minimal_total` (pages delivered in their minimal form).
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
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        gauge.record(0)
    }

    public var report: Report { state.withLock { $0 } }

    private var gauge: Gauge { Gauge(label: "zumik_monitor_pager_broken", dimensions: [], factory: factory) }

    func delivered() {
        let wasBroken = state.withLock { report in
            defer { report = Report(state: "ok", error: nil, since: nil) }
            return report.isBroken
        }
        if wasBroken { gauge.record(0) }
    }

    func parked(kind: String) {
        Counter(label: "zumik_monitor_alerts_parked_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    func deliveredMinimal() {
        Counter(label: "zumik_monitor_pages_minimal_total", dimensions: [], factory: factory).increment()
    }

    func broken(_ error: String, at now: Date) {
        state.withLock { report in
            report = Report(state: "broken", error: error, since: report.since ?? now)
        }
        gauge.record(1)
    }
}
