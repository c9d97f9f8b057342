public import Foundation
public import Logging
public import ServiceLifecycle

/// Keeps the history small: every `history.roll_up_interval` rolls complete hours into hourly and daily rows,
/// then prunes what is past its retention (raw samples, hourly and daily rows, delivered outbox rows).
/// The clock and the time are injected, so tests drive days of history in milliseconds.
public final class HistoryRollUpService: Service {
    let history: any HistoryStorage
    let settings: HistorySettings
    let spanCap: TimeInterval
    let logger: Logger
    let now: @Sendable () -> Date
    let clock: any Clock<Duration>

    /// - Parameter spanCap: the longest time one probe stands for (`HistorySpan.cap(interval:)`).
    public init(
        history: any HistoryStorage,
        settings: HistorySettings,
        spanCap: TimeInterval,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.history = history
        self.settings = settings
        self.spanCap = spanCap
        self.logger = logger
        self.now = now
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.runOnce()
                try? await self.clock.sleep(for: self.settings.rollUpInterval)
            }
        }
    }

    /// One roll-up and one prune at `now()`.
    @discardableResult
    public func runOnce() async -> (RollUpReport, PruneReport)? {
        let at = now()
        do {
            let rolled = try await history.rollUp(now: at, spanCap: spanCap)
            let pruned = try await history.prune(Self.cutoffs(settings, now: at))
            logger.debug(
                "history rolled up",
                metadata: [
                    "history.hours": .stringConvertible(rolled.hours), "history.days": .stringConvertible(rolled.days),
                    "history.pruned_samples": .stringConvertible(pruned.samples),
                    "history.pruned_outbox": .stringConvertible(pruned.outbox),
                ]
            )
            return (rolled, pruned)
        } catch {
            logger.error("cannot roll up history", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// What to prune at `now` under `settings`.
    public static func cutoffs(_ settings: HistorySettings, now: Date) -> RetentionCutoffs {
        RetentionCutoffs(
            rawBefore: now.addingTimeInterval(-settings.rawRetention),
            hourlyBefore: now.addingTimeInterval(-settings.hourlyRetention),
            dailyBefore: now.addingTimeInterval(-settings.dailyRetention),
            deliveredOutboxBefore: now.addingTimeInterval(-settings.deliveredOutboxRetention)
        )
    }
}

/// The longest time one probe result stands for in the history: three probe intervals (a confirmation probe
/// comes sooner; a longer gap means the monitor was not watching, which is not observed time).
public enum HistorySpan {
    public static func cap(interval: Duration) -> TimeInterval {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        return max(3 * seconds, 1)
    }
}
