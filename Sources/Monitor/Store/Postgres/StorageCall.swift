import PostgresNIO
import Synchronization

/// One storage call's work racing its connection wait and the loss of its connection (see
/// `PostgresStore.reaching`). The caller is answered once; the work may go on after that (abandoned on a dead
/// connection, or refused its connection), but nobody waits for it.
///
/// One watchdog task per call looks at the clock and the connection every ``tick`` while the call is not
/// answered (a call answered within a tick costs one cancelled sleep): it abandons a call still waiting for a
/// connection when the wait runs out, and answers "unavailable" for one whose connection has been closed for
/// ``lostConnectionGrace``. Nothing is registered on the connection itself, so a pooled connection that serves
/// millions of calls keeps nothing of them.
final class StorageCall<T: Sendable>: Sendable {
    /// How long the work may go on after its connection closed: a statement in flight when it closed fails at
    /// once (postgres-nio fails what it had sent), so only one sent after the close (never answered) waits this.
    static var lostConnectionGrace: Duration { .seconds(1) }

    /// How often the watchdog looks.
    static var tick: Duration { .milliseconds(100) }

    private enum Phase { case waiting, started, abandoned }

    private struct State {
        var phase = Phase.waiting
        var continuation: CheckedContinuation<T, any Error>?
        var answered = false
        var cancelled = false
        /// The connection the work uses now (`begin` is called again for a later one, e.g. after the first
        /// migration's).
        var connection: PostgresConnection?
        var work: Task<Void, Never>?
        var watchdog: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let operation: String

    private init(operation: String) {
        self.operation = operation
        StorageCalls.live.add(1, ordering: .relaxed)
    }

    deinit { StorageCalls.live.subtract(1, ordering: .relaxed) }

    static func run(
        _ operation: String,
        wait: Duration,
        _ call: @escaping @Sendable (_ begin: @escaping @Sendable (PostgresConnection) throws -> Void) async throws -> T
    ) async throws -> T {
        let race = StorageCall(operation: operation)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation, wait: wait, call)
            }
        } onCancel: {
            race.cancel()
        }
    }

    private func start(
        _ continuation: CheckedContinuation<T, any Error>,
        wait: Duration,
        _ call: @escaping @Sendable (_ begin: @escaping @Sendable (PostgresConnection) throws -> Void) async throws -> T
    ) {
        let cancelledFirst = state.withLock { s in
            s.continuation = continuation
            if s.cancelled { s.phase = .abandoned }
            return s.cancelled
        }
        if cancelledFirst {
            answer(.failure(CancellationError()))
            return
        }
        let work = Task {
            do {
                answer(.success(try await call { connection in try self.begin(connection) }))
            } catch {
                answer(.failure(error))
            }
        }
        let watchdog = Task { await watch(wait: wait) }
        let (answered, cancelled) = state.withLock { s in
            s.work = work
            s.watchdog = watchdog
            return (s.answered, s.cancelled)
        }
        if answered { watchdog.cancel() }
        if cancelled { work.cancel() }
    }

    /// The work has a connection: refused once the call was abandoned.
    private func begin(_ connection: PostgresConnection) throws {
        try state.withLock { s in
            guard s.phase != .abandoned else { throw CancellationError() }
            s.phase = .started
            s.connection = connection
        }
    }

    private func watch(wait: Duration) async {
        let clock = ContinuousClock()
        let waitEnds = clock.now.advanced(by: wait)
        var closedSince: ContinuousClock.Instant?
        while true {
            let (phase, answered, connection) = state.withLock { s in (s.phase, s.answered, s.connection) }
            if answered { return }
            let now = clock.now
            switch phase {
            case .waiting where now >= waitEnds:
                waitRanOut(wait)
                return
            case .started:
                if connection?.isClosed == true {
                    let since = closedSince ?? now
                    closedSince = since
                    if now - since >= Self.lostConnectionGrace {
                        connectionLost()
                        return
                    }
                } else {
                    closedSince = nil
                }
            case .waiting, .abandoned:
                break
            }
            let nap = phase == .waiting ? min(Self.tick, waitEnds - now) : Self.tick
            guard (try? await Task.sleep(for: nap)) != nil else { return }
        }
    }

    private func waitRanOut(_ wait: Duration) {
        let (abandoned, work) = state.withLock { s in
            guard s.phase == .waiting, !s.answered else { return (false, nil as Task<Void, Never>?) }
            s.phase = .abandoned
            return (true, s.work)
        }
        guard abandoned else { return }
        // Cancels the request for a connection; the answer does not wait for the pool to take it back.
        work?.cancel()
        answer(.failure(StoreUnavailable(operation: operation, kind: "no connection within \(wait)")))
    }

    private func connectionLost() {
        answer(.failure(StoreUnavailable(operation: operation, kind: "connection lost mid-call")))
    }

    /// The caller was cancelled: before the work began it is answered at once (the work is refused any connection
    /// it still gets); once begun, the work is cancelled and still answers (or its connection's loss does).
    private func cancel() {
        let (work, abandon) = state.withLock { s in
            s.cancelled = true
            guard s.continuation != nil else { return (nil as Task<Void, Never>?, false) }
            let abandon = s.phase == .waiting
            if abandon { s.phase = .abandoned }
            return (s.work, abandon)
        }
        work?.cancel()
        if abandon { answer(.failure(CancellationError())) }
    }

    private func answer(_ result: Result<T, any Error>) {
        let taken = state.withLock { s in
            guard !s.answered, let continuation = s.continuation else {
                return nil as (CheckedContinuation<T, any Error>, Task<Void, Never>?)?
            }
            s.answered = true
            s.continuation = nil
            // The work's connection is not kept past the answer.
            s.connection = nil
            return (continuation, s.watchdog)
        }
        guard let (continuation, watchdog) = taken else { return }
        watchdog?.cancel()
        continuation.resume(with: result)
    }
}

/// Storage calls alive (answered or not, until their tasks let go of them): a test reads it to show that calls
/// leave nothing behind.
enum StorageCalls {
    static let live = Atomic<Int>(0)
}
