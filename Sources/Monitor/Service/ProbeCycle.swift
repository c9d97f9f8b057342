public import Foundation
import Logging
import Prometheus
import Synchronization

/// One cycle of the monitor's loop: the probes it starts in one tick (at start and then each interval, every
/// property due; a confirmation probe due on its own is a cycle of one). The cycle's wall time runs from that
/// tick until the last of its probes is recorded (store, alerts and all), so it is what one round of checks
/// costs as the monitor runs it.
public final class ProbeCycle: Sendable {
    public let started: Date
    public let properties: Int
    private let left: Mutex<Int>

    public init(started: Date, properties: Int) {
        self.started = started
        self.properties = properties
        left = Mutex(properties)
    }

    /// Notes one probe recorded at `now`; returns the cycle's wall time when it was the last one.
    public func recorded(at now: Date) -> TimeInterval? {
        let last = left.withLock { left in
            left -= 1
            return left == 0
        }
        return last ? max(now.timeIntervalSince(started), 0) : nil
    }

    /// The cycle's end: its wall time in `zumik_monitor_cycle_duration_seconds` and one log line
    /// (`probe cycle done`, with `cycle.properties` and `cycle.duration_ms`).
    func done(after seconds: TimeInterval, metrics: MonitorMetrics, logger: Logger) {
        metrics.cycleDuration(seconds)
        logger.info(
            "probe cycle done",
            metadata: [
                "cycle.properties": .stringConvertible(properties),
                "cycle.duration_ms": .stringConvertible((seconds * 100_000).rounded() / 100),
            ]
        )
    }
}

extension MonitorMetrics {
    /// `zumik_monitor_cycle_duration_seconds`: a histogram of cycle wall times (see ``ProbeCycle``).
    func cycleDuration(_ seconds: TimeInterval) {
        registry.makeDurationHistogram(
            descriptor: MonitorMetrics.metric(
                "zumik_monitor_cycle_duration_seconds",
                "Wall time of a probe cycle: from the loop tick that starts its probes until the last is recorded."
            ),
            buckets: Self.phaseBuckets
        ).recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
