public import Foundation
public import Prometheus
import Synchronization

/// Whether the store answers, as this instance's last storage calls saw it. The store reports every call
/// (`succeeded`, `failed`); `/healthz`, `/v1/status`, the metrics and the "monitoring degraded" notice
/// (`StoreOutageNotifier`) read it.
///
/// The store is *unreachable* from the first call that failed for want of the database (no connection within
/// the wait, a connection refused or closed, the server shutting down: ``StoreUnavailable``) until the next
/// call that reached it. A call the database answered with an error (a constraint, a lost lease) counts as
/// reached. The error kind kept is a fixed phrase: never the connection string, host or password.
///
/// Metrics: `zumik_monitor_store_up` (1 while reachable) and `zumik_monitor_store_errors_total{op}` (calls that
/// did not reach the store, by operation).
public final class StoreHealth: Sendable {
    /// What `/healthz` and the status report show.
    public struct Report: Sendable, Hashable, Codable {
        /// `sqlite` or `postgres`.
        public var backend: String
        public var reachable: Bool
        /// When the store stopped answering (nil while reachable).
        public var since: Date?
        /// The last failure's kind, e.g. "connection refused or closed" (nil while reachable).
        public var error: String?

        public init(backend: String, reachable: Bool = true, since: Date? = nil, error: String? = nil) {
            self.backend = backend
            self.reachable = reachable
            self.since = since
            self.error = error
        }

        /// "store unreachable since 2026-…Z (kind)", or nil while reachable.
        public var problem: String? {
            guard !reachable, let since else { return nil }
            return "store unreachable since \(since.formatted(.iso8601)) (\(error ?? "unknown error"))"
        }
    }

    struct State {
        var report: Report
        /// Outages begun since start: a remediation run that saw this change may have been cut short.
        var outages = 0
        /// When the last outage ended (nil: none since start).
        var recoveredAt: Date?
    }

    private let state: Mutex<State>
    private let registry: PrometheusCollectorRegistry
    private let now: @Sendable () -> Date

    public init(
        backend: String,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        state = Mutex(State(report: Report(backend: backend)))
        self.registry = registry
        self.now = now
        up.set(to: 1)
    }

    public var report: Report { state.withLock { $0.report } }
    public var isReachable: Bool { state.withLock { $0.report.reachable } }
    /// How many outages began since start.
    public var outages: Int { state.withLock { $0.outages } }
    /// When the store last answered again after an outage (nil: no outage since start). Until the fleet's other
    /// instances have had time to reach it too, their heartbeats are stale for the outage's sake, not theirs.
    public var recoveredAt: Date? { state.withLock { $0.recoveredAt } }

    /// A call reached the store: an outage, if any, is over. Returns whether one was.
    @discardableResult
    public func succeeded() -> Bool {
        let recovered = state.withLock { s in
            guard !s.report.reachable else { return false }
            s.report = Report(backend: s.report.backend)
            s.recoveredAt = now()
            return true
        }
        if recovered { up.set(to: 1) }
        return recovered
    }

    /// A call did not reach the store (`operation`: the storage method, e.g. `record`). Returns whether this
    /// began an outage.
    @discardableResult
    public func failed(_ operation: String, kind: String) -> Bool {
        let at = now()
        let began = state.withLock { s in
            let began = s.report.reachable
            if began { s.outages += 1 }
            s.report = Report(backend: s.report.backend, reachable: false, since: s.report.since ?? at, error: kind)
            return began
        }
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "zumik_monitor_store_errors_total",
                unitName: "",
                helpText: "Storage calls that did not reach the store (no connection, connection lost), by operation."
            ),
            labels: [("op", operation)]
        ).increment()
        if began { up.set(to: 0) }
        return began
    }

    private var up: Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "zumik_monitor_store_up",
                unitName: "",
                helpText: "1 while the store answers this instance's calls, 0 while it does not."
            )
        )
    }
}

/// A storage call that did not reach the store: no connection within the wait, the connection refused, lost
/// or closed, the server shutting down. Nothing was written. `kind` is a fixed phrase (no host, no secret).
public struct StoreUnavailable: Error, CustomStringConvertible {
    public var operation: String
    public var kind: String

    public init(operation: String, kind: String) {
        self.operation = operation
        self.kind = kind
    }

    public var description: String { "store unreachable during \(operation): \(kind)" }
}
