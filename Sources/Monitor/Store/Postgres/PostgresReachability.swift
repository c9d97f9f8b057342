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
