import Prometheus
import Synchronization

/// The metrics each probe updates (per property: its outcome counter, phase histograms and state gauges),
/// kept once made. The registry hands back the same metric for the same name and labels, but each lookup checks
/// the name, the labels and the HELP text again: a few dozen microseconds per probe and metric, on every probe.
/// Metrics are never unregistered, so a kept one is the registry's.
final class MetricHandles: Sendable {
    private let counters = Mutex<[[String]: Counter]>([:])
    private let histograms = Mutex<[[String]: DurationHistogram]>([:])
    private let gauges = Mutex<[[String]: Gauge]>([:])

    /// The counter for `labels` (label values, in the metric's label order), made by `make` the first time.
    func counter(_ labels: [String], _ make: () -> Counter) -> Counter {
        Self.kept(labels, in: counters, make)
    }

    func histogram(_ labels: [String], _ make: () -> DurationHistogram) -> DurationHistogram {
        Self.kept(labels, in: histograms, make)
    }

    func gauge(_ labels: [String], _ make: () -> Gauge) -> Gauge {
        Self.kept(labels, in: gauges, make)
    }

    private static func kept<Metric: Sendable>(
        _ labels: [String],
        in table: borrowing Mutex<[[String]: Metric]>,
        _ make: () -> Metric
    ) -> Metric {
        if let metric = table.withLock({ $0[labels] }) { return metric }
        let metric = make()
        table.withLock { $0[labels] = metric }
        return metric
    }
}
