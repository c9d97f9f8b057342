import Foundation
import Logging
import Monitor
import Prometheus
import Testing
import ZumikTestSupport

/// `PostgresStore` when the database cannot be reached: calls fail as `StoreUnavailable` within the connection
/// wait (not postgres-nio's minute), `StoreHealth` says so and recovers by itself, and a call that gave up wrote
/// nothing (so a caller may keep its result and record it later, once).
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresReachabilityTests {
    static func store(_ url: String, health: StoreHealth) throws -> (PostgresStore, Task<Void, Never>) {
        var logger = Logger(label: "reachability-test")
        logger.logLevel = .critical
        let store = PostgresStore(
            try PostgresConnectionString(url, variable: "ZUMIK_DATABASE_URL"),
            holder: "test",
            health: health,
            connectionWait: .seconds(2),
            logger: logger
        )
        return (store, Task { await store.run() })
    }

    /// A `store(_:health:)` on a PostgreSQL server of its own, which the test may stop and start; `close()` ends
    /// both.
    final class OwnServer: Sendable {
        let server: PostgresServer
        let store: PostgresStore
        let health: StoreHealth
        private let pool: Task<Void, Never>

        init() throws {
            let server = try PostgresServer()
            let health = StoreHealth(backend: "postgres")
            do {
                (store, pool) = try PostgresReachabilityTests.store(
                    server.url(database: try server.makeDatabase()),
                    health: health
                )
            } catch {
                try? server.stop()
                throw error
            }
            self.server = server
            self.health = health
        }

        func close() {
            pool.cancel()
            try? server.stop()
        }
    }

    @Test func aDatabaseNobodyAnswersFailsEachCallWithinTheWaitAndIsReportedWithoutTheURL() async throws {
        let registry = PrometheusCollectorRegistry()
        let health = StoreHealth(backend: "postgres", registry: registry)
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let port = try LoopbackServer.freePort()
        let (store, pool) = try Self.store("postgres://zumik:\(password)@127.0.0.1:\(port)/x", health: health)
        defer { pool.cancel() }
        let started = ContinuousClock.now
        await #expect(throws: StoreUnavailable.self) {
            _ = try await store.enqueue(DiscordMessage(content: "x"), kind: "test", incidentID: nil, now: Date())
        }
        // Within the wait (plus scheduling on a loaded machine), not after postgres-nio's one minute.
        #expect(ContinuousClock.now - started < .seconds(45))
        let report = health.report
        #expect(!report.reachable)
        #expect(report.since != nil)
        let kind = try #require(report.error)
        #expect(!kind.contains(password) && !kind.contains("127.0.0.1") && !kind.contains(String(port)))
        #expect(report.problem?.hasPrefix("store unreachable since ") == true)
        #expect(health.outages == 1)
        let exposition = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        #expect(exposition.contains("zumik_monitor_store_up 0"), "\(exposition)")
        #expect(exposition.contains(#"zumik_monitor_store_errors_total{op="enqueue"} 1"#), "\(exposition)")
    }

    @Test func aCallThatGaveUpWroteNothingAndTheStoreRecoversByItself() async throws {
        let own = try PostgresReachabilityTests.OwnServer()
        defer { own.close() }
        let (server, store, health) = (own.server, own.store, own.health)
        _ = try await store.enqueue(DiscordMessage(content: "before"), kind: "test", incidentID: nil, now: Date())
        #expect(health.isReachable)

        try server.stop(mode: "fast")
        // The first call may meet the closed connection, the next wait for a new one: both fail, neither writes.
        for text in ["during-1", "during-2"] {
            await #expect(throws: StoreUnavailable.self) {
                _ = try await store.enqueue(DiscordMessage(content: text), kind: "test", incidentID: nil, now: Date())
            }
        }
        #expect(!health.isReachable)

        try server.start()
        var recovered = false
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while !recovered && ContinuousClock.now < deadline {
            recovered = (try? await store.allOutbox()) != nil
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered)
        #expect(health.isReachable)
        #expect(health.report.since == nil && health.report.error == nil)
        #expect(health.outages == 1)
        // Only the row written before the outage: the calls that gave up never began their transaction.
        let rows = try await store.allOutbox()
        #expect(rows.map { $0.payload.contains("before") } == [true])
    }
}
