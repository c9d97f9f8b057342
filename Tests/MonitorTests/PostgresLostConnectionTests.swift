import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import ZumikTestSupport

@testable import Monitor

/// A storage call is answered even when postgres-nio never answers it: a statement sent on a connection that has
/// already closed waits forever (postgres-nio 1.33 drops the write error), and so does a request for a connection
/// that ignores its cancellation. On main a monitor stopping after a PostgreSQL restart hung in such a call
/// (`StoreOutageRemediationTests`, under load): the connection wait cancelled it and then waited for it to end.
@Suite(.serialized)
struct PostgresLostConnectionTests {
    /// Work that ignores cancellation and ends only when the test lets it (at its end).
    final class Stuck: Sendable {
        private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])

        func wait() async {
            await withCheckedContinuation { continuation in waiting.withLock { $0.append(continuation) } }
        }

        func release() {
            for continuation in waiting.withLock({ w in
                defer { w = [] }; return w
            }) { continuation.resume() }
        }
    }

    /// `call`'s outcome, or nil when it has not ended within `limit` (without waiting for it: it may never end).
    static func outcome<T: Sendable>(
        within limit: Duration,
        _ call: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let first = Mutex<CheckedContinuation<Result<T, any Error>?, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            first.withLock { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>?) -> Void = { outcome in
                first.withLock { c in
                    c?.resume(returning: outcome)
                    c = nil
                }
            }
            Task {
                do { finish(.success(try await call())) } catch { finish(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: limit)
                finish(nil)
            }
        }
    }

    @Test func aConnectionRequestThatIgnoresItsCancellationStillEndsTheCallWithinTheWait() async throws {
        let stuck = Stuck()
        defer { stuck.release() }
        let health = StoreHealth(backend: "postgres")
        let started = ContinuousClock.now
        let outcome = await Self.outcome(within: .seconds(20)) {
            try await PostgresStore.reaching("record", wait: .milliseconds(200), health: health) { _ in
                await stuck.wait()
                return 1
            }
        }
        let answered = try #require(outcome, "the call was not answered within 20 s")
        let error = try #require(answered.failure)
        let unavailable = try #require(error as? StoreUnavailable)
        #expect(unavailable.kind == "no connection within 0.2 seconds")
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!health.isReachable)
    }

    @Test func aCallerCancelledWhileWaitingForAConnectionIsAnsweredAtOnce() async throws {
        let stuck = Stuck()
        defer { stuck.release() }
        let health = StoreHealth(backend: "postgres")
        let call = Task {
            try await PostgresStore.reaching("record", wait: .seconds(60), health: health) { _ in
                await stuck.wait()
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        let outcome = await Self.outcome(within: .seconds(20)) { try await call.value }
        let answered = try #require(outcome, "the cancelled call was not answered")
        let error = try #require(answered.failure)
        #expect(error is CancellationError)
        // Cancellation says nothing about the database.
        #expect(health.isReachable)
    }

    /// A statement sent after the server closed the connection is never answered by postgres-nio; the call is
    /// answered "unavailable" soon after the close, and the store serves the next call on a new connection.
    @Test(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
    func aStatementSentOnAConnectionTheServerClosedEndsTheCallAsUnavailable() async throws {
        let own = try PostgresReachabilityTests.OwnServer()
        defer { own.close() }
        let (store, health) = (own.store, own.health)
        _ = try await store.enqueue(DiscordMessage(content: "before"), kind: "test", incidentID: nil, now: Date())

        let started = ContinuousClock.now
        let outcome = await Self.outcome(within: .seconds(30)) {
            try await store.write { connection, logger in
                // The server ends this backend (as a restart does); the statement fails with FATAL 57P01.
                _ = try? await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: logger)
                let deadline = ContinuousClock.now.advanced(by: .seconds(10))
                while !connection.isClosed, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                // Sent on the closed connection: postgres-nio never answers it.
                try await connection.query("SELECT 1", logger: logger)
                return 1
            }
        }
        let answered = try #require(outcome, "the call was not answered within 30 s")
        let error = try #require(answered.failure)
        let unavailable = try #require(error as? StoreUnavailable, "\(error)")
        #expect(unavailable.kind == "connection lost mid-call")
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(!health.isReachable)
        // The pool replaces the connection; the next call is served and the store counts as reachable again.
        _ = try await store.enqueue(DiscordMessage(content: "after"), kind: "test", incidentID: nil, now: Date())
        #expect(health.isReachable)
        #expect(try await store.allOutbox().count == 2)
    }

    /// Calls on one pooled connection leave nothing behind once answered (on main each call registered a callback
    /// on its connection's close, kept until the connection closed: a monitor whose connections never close kept
    /// every call it ever made).
    @Test(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
    func callsLeaveNothingOnTheirConnection() async throws {
        let own = try PostgresReachabilityTests.OwnServer()
        defer { own.close() }
        _ = try await own.store.allOutbox()
        let before = StorageCalls.live.load(ordering: .relaxed)
        for _ in 0..<300 { _ = try await own.store.allOutbox() }
        // Each call's watchdog lets go of it once cancelled; give them a moment.
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        var grown = StorageCalls.live.load(ordering: .relaxed) - before
        while grown >= 100, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            grown = StorageCalls.live.load(ordering: .relaxed) - before
        }
        #expect(grown < 100, "\(grown) of 300 answered calls still alive")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
