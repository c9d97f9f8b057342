import Foundation
import PostgresNIO
import Synchronization

/// What a storage call does when PostgreSQL cannot be reached: it waits at most `connectionWait` for a pooled
/// connection (postgres-nio's pool would queue it for a minute before failing it), and fails with
/// ``StoreUnavailable`` (a fixed phrase, never the host or the password), reported to ``StoreHealth``.
///
/// The wait bounds the time before the call's body starts, never the body: a transaction that began runs to its
/// end (committed or rolled back), and one abandoned while waiting never starts. So a caller told "unavailable"
/// knows nothing was written, and may keep the result to record later without recording it twice.
///
/// A call never waits on postgres-nio to give up by itself: a statement sent on a connection that has already
/// closed is never answered (postgres-nio 1.33 writes it to the closed channel and drops the error), and the
/// pool can hand out a connection the server has just closed. So the call's work runs in a task of its own, and
/// the caller is answered by whichever comes first: the work's end; the connection wait running out before the
/// work began (the work is cancelled, and refused should it still get a connection); or the work's connection
/// closing without the work ending soon after (``StorageCall/lostConnectionGrace``). A connection that closed
/// mid-transaction committed nothing, so "unavailable" still means nothing was written (as for any client, a
/// COMMIT whose answer was lost with the connection stays ambiguous).
extension PostgresStore {
    /// Runs `call` (which must call its `begin` argument with each connection it leases, before its first
    /// statement on it) with the connection wait, maps the errors of an unreachable database to
    /// ``StoreUnavailable`` and reports the outcome to `health`.
    static func reaching<T: Sendable>(
        _ operation: String,
        wait: Duration,
        health: StoreHealth?,
        _ call: @escaping @Sendable (_ begin: @escaping @Sendable (PostgresConnection) throws -> Void) async throws -> T
    ) async throws -> T {
        do {
            let value = try await StorageCall<T>.run(operation, wait: wait, call)
            health?.succeeded()
            return value
        } catch {
            guard let unavailable = Self.unavailable(error, operation: operation) else {
                // The caller was cancelled (shutdown): that says nothing about the database.
                if error is CancellationError || (error as? PSQLError)?.code == .queryCancelled { throw error }
                // The database answered (a constraint, a lost lease): it is reachable.
                health?.succeeded()
                throw error
            }
            health?.failed(operation, kind: unavailable.kind)
            throw unavailable
        }
    }

    /// The error as ``StoreUnavailable`` when it says the database was not reached; nil when it answered.
    static func unavailable(_ error: any Error, operation: String) -> StoreUnavailable? {
        let kind: String? =
            switch error {
            case let error as StoreUnavailable: error.kind
            case let error as PostgresTransactionError:
                // Only a failed BEGIN, COMMIT or body says something about the connection.
                [error.beginError, error.closureError, error.commitError].compactMap { $0 }
                    .lazy.compactMap { Self.unavailable($0, operation: operation)?.kind }.first
            case let error as PSQLError: Self.kind(of: error)
            default:
                // postgres-nio's pool error (its module is not ours to import): the circuit breaker after a
                // minute of failed connection attempts, or the pool shut down.
                String(reflecting: type(of: error)).hasSuffix("ConnectionPoolError")
                    ? "connection attempts keep failing" : nil
            }
        return kind.map { StoreUnavailable(operation: operation, kind: $0) }
    }

    private static func kind(of error: PSQLError) -> String? {
        switch error.code {
        case .connectionError: return "connection refused or failed"
        case .serverClosedConnection: return "connection closed by the server"
        case .clientClosedConnection, .uncleanShutdown: return "connection lost"
        case .poolClosed: return "connection pool closed"
        case .server:
            guard let state = error.serverInfo?[.sqlState] else { return nil }
            // 08: connection exception; 57P01–57P03: shutting down, crashed, starting up; 53300: too many
            // connections.
            if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                return "server unavailable (SQLSTATE \(state))"
            }
            return nil
        default: return nil
        }
    }
}

/// One storage call's work racing its connection wait and the loss of its connection (see `reaching`). The
/// caller is answered once; the work may go on after that (abandoned on a dead connection, or refused its
/// connection), but nobody waits for it.
final class StorageCall<T: Sendable>: Sendable {
    /// How long the work may go on after its connection closed: a statement in flight when it closed fails at
    /// once (postgres-nio fails what it had sent), so only one sent after the close (never answered) waits this.
    static var lostConnectionGrace: Duration { .seconds(1) }

    private enum Phase { case waiting, started, abandoned }

    private struct State {
        var phase = Phase.waiting
        var continuation: CheckedContinuation<T, any Error>?
        var answered = false
        var cancelled = false
        /// Counts the connections `begin` was given; only the newest one's close counts.
        var connection = 0
        var work: Task<Void, Never>?
        var timers: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let operation: String

    private init(operation: String) { self.operation = operation }

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
        let timer = Task {
            guard (try? await Task.sleep(for: wait)) != nil else { return }
            waitRanOut(wait)
        }
        let (answered, cancelled) = state.withLock { s in
            s.work = work
            s.timers.append(timer)
            return (s.answered, s.cancelled)
        }
        if answered { timer.cancel() }
        if cancelled { work.cancel() }
    }

    /// The work has a connection (called again for a later one, e.g. after the first migration's): refused once
    /// the call was abandoned.
    private func begin(_ connection: PostgresConnection) throws {
        let number = try state.withLock { s in
            guard s.phase != .abandoned else { throw CancellationError() }
            s.phase = .started
            s.connection += 1
            return s.connection
        }
        connection.closeFuture.whenComplete { _ in self.connectionClosed(number) }
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

    private func connectionClosed(_ number: Int) {
        let timer = Task {
            guard (try? await Task.sleep(for: Self.lostConnectionGrace)) != nil else { return }
            let lost = state.withLock { s in !s.answered && s.connection == number }
            if lost {
                answer(.failure(StoreUnavailable(operation: operation, kind: "connection lost mid-call")))
            }
        }
        let answered = state.withLock { s in
            s.timers.append(timer)
            return s.answered
        }
        if answered { timer.cancel() }
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
                return nil as (CheckedContinuation<T, any Error>, [Task<Void, Never>])?
            }
            s.answered = true
            s.continuation = nil
            defer { s.timers = [] }
            return (continuation, s.timers)
        }
        guard let (continuation, timers) = taken else { return }
        for timer in timers { timer.cancel() }
        continuation.resume(with: result)
    }
}
