import Synchronization

/// Wakes a waiting loop early (e.g. the outbox sender when a row is enqueued). A signal sent while nobody
/// waits is remembered once.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            if s.waiters.isEmpty {
                s.pending = true
                return []
            }
            let all = Array(s.waiters.values)
            s.waiters = [:]
            return all
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns on a signal, after `timeout`, or when the task is cancelled, whichever comes first.
    public func wait(timeout: Duration, clock: any Clock<Duration>) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    public func wait(timeout: Duration) async { await wait(timeout: timeout, clock: ContinuousClock()) }

    private func waitForSignal() async {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.pending {
                        s.pending = false
                        return true
                    }
                    if Task.isCancelled { return true }
                    s.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
