import Synchronization

/// Lock keys held by running actions. Busy means busy: no waiting, the caller answers 409.
public final class LockTable: Sendable {
    private let held = Mutex<Set<String>>([])

    public init() {}

    /// Takes `key` if free. Returns false at once when another run holds it.
    public func tryAcquire(_ key: String) -> Bool {
        held.withLock { $0.insert(key).inserted }
    }

    public func release(_ key: String) {
        _ = held.withLock { $0.remove(key) }
    }

    public func isHeld(_ key: String) -> Bool { held.withLock { $0.contains(key) } }
}
