public import ActionKit
import Synchronization

/// An action's cooldown and max-runs-per-window, from its signed limits.
public final class RunLimiter: Sendable {
    public enum Decision: Sendable, Hashable {
        case allowed
        /// Refused; the earliest retry in whole seconds (at least 1).
        case refused(retryAfterSeconds: Int, rule: String)
    }

    private struct History {
        var starts: [ContinuousClock.Instant] = []
    }

    private let histories = Mutex<[String: History]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the clock; injected so tests do not sleep.
    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
    }

    /// Checks the limits and, when allowed, records a run starting now (atomically).
    public func admit(actionID: String, limits: ActionLimits) -> Decision {
        let now = self.now()
        return histories.withLock { histories in
            var history = histories[actionID, default: History()]
            let keep = max(limits.cooldownS ?? 0, limits.windowS ?? 0)
            history.starts.removeAll { $0.duration(to: now) >= .seconds(keep) }
            if let cooldown = limits.cooldownS, cooldown > 0, let last = history.starts.last {
                let until = last + .seconds(cooldown)
                if now < until {
                    return .refused(retryAfterSeconds: Self.ceilSeconds(now.duration(to: until)), rule: "cooldown")
                }
            }
            if let maxRuns = limits.maxRuns, let window = limits.windowS, window > 0 {
                let inWindow = history.starts.filter { $0.duration(to: now) < .seconds(window) }
                if inWindow.count >= maxRuns, let oldest = inWindow.first {
                    let until = oldest + .seconds(window)
                    return .refused(
                        retryAfterSeconds: Self.ceilSeconds(now.duration(to: until)),
                        rule: "max_runs_per_window"
                    )
                }
            }
            history.starts.append(now)
            histories[actionID] = history
            return .allowed
        }
    }

    static func ceilSeconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}
