import CZumikSys
import Dispatch
import Synchronization

/// Gives the heap that runs freed back to the system once the agent is idle again: `delay` after
/// the last run in flight ends (`malloc_trim`), at most once per `delay`. Off every run's path.
final class IdleTrim: Sendable {
    private struct State {
        var running = 0
        var scheduled = false
    }

    private let state = Mutex(State())
    let delay: Duration

    init(delay: Duration = .seconds(1)) {
        self.delay = delay
    }

    func runStarted() {
        state.withLock { $0.running += 1 }
    }

    func runEnded() {
        let schedule = state.withLock { state -> Bool in
            state.running -= 1
            guard state.running == 0, !state.scheduled else { return false }
            state.scheduled = true
            return true
        }
        guard schedule else { return }
        let (seconds, attoseconds) = delay.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
            let idle = state.withLock { state -> Bool in
                state.scheduled = false
                return state.running == 0
            }
            if idle { _ = zumik_malloc_trim() }
        }
    }
}
