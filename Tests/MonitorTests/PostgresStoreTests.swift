import ActionKit
import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// What PostgreSQL adds to the storage contract: several monitors on one database, each change once.
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func probe(_ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(property: "api", url: "https://api.example/healthz", at: at, health: health)
    }

    @Sendable func render(_ event: AlertEvent) -> any OutboxMessage {
        PlainMessage(text: "\(event.transition.from.rawValue)→\(event.transition.to.rawValue)")
    }

    @Test func twoMonitorsRecordingTogetherOpenOneIncidentWithOneAlert() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        let stores = [database.store, other.store]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                let store = stores[i % 2]
                let at = t0 + Double(i)
                group.addTask {
                    _ = try await store.record(
                        self.probe(.down, at),
                        policy: self.policy,
                        now: at,
                        message: self.render
                    )
                }
            }
            try await group.waitForAll()
        }
        #expect(try await database.store.incidents(for: "api").count == 1)
        #expect(try await other.store.allOutbox().map(\.payload) == ["healthy→down"])
        let incident = try #require(try await database.store.openIncident(for: "api"))
        #expect(try await database.store.incidentEvents(incidentID: incident.id).map(\.kind) == ["transition"])
    }

    @Test func twoMonitorsPagingTogetherPageOnce() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        _ = try await database.store.record(probe(.down, t0), policy: policy, now: t0, message: render)
        let opened = try await database.store.record(probe(.down, t0 + 1), policy: policy, now: t0 + 1, message: render)
        let id = try #require(opened.incident?.id)
        let answers = try await withThrowingTaskGroup(of: Bool.self) { group in
            for store in [database.store, other.store, database.store, other.store] {
                group.addTask {
                    try await store.pageOnce(
                        incidentID: id,
                        kind: "remediation.paged",
                        payload: .object([:]),
                        at: self.t0 + 9,
                        page: PlainMessage(text: "<@42> help")
                    )
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter { $0 }.count == 1)
        #expect(try await database.store.allOutbox().filter { $0.kind == "page" }.count == 1)
    }

    @Test func aSenderNeverGetsTheRowsAnotherHoldsUntilItsClaimExpires() async throws {
        let database = try PostgresTestStore(holder: "a", outboxLease: 30)
        let other = try database.sibling(holder: "b")
        var ids: [Int64] = []
        for text in ["one", "two", "three"] {
            ids.append(
                try await database.store.enqueue(PlainMessage(text: text), kind: "test", incidentID: nil, now: t0)
            )
        }
        #expect(try await database.store.dueOutbox(now: t0, limit: 2).map(\.id) == Array(ids.prefix(2)))
        // The third is free, but it waits behind the rows "a" holds: order is kept.
        #expect(try await other.store.dueOutbox(now: t0 + 1, limit: 20).isEmpty)
        try await database.store.markDelivered(ids[0], at: t0 + 2)
        #expect(try await other.store.dueOutbox(now: t0 + 3, limit: 20).isEmpty)
        // "a" died holding the second row: once the claim expires, "b" sends it and the third.
        #expect(try await other.store.dueOutbox(now: t0 + 31, limit: 20).map(\.id) == [ids[1], ids[2]])
        #expect(try await database.store.dueOutbox(now: t0 + 32, limit: 20).isEmpty)
    }

    @Test func migrationsAreVersionedAndTwoStartingTogetherApplyThemOnce() async throws {
        let server = try PostgresServer.shared()
        let url = server.url(database: try server.makeDatabase())
        let a = try PostgresSibling(url: url, holder: "a")
        let b = try PostgresSibling(url: url, holder: "b")
        async let first = a.store.migrate()
        async let second = b.store.migrate()
        let applied = try await [first, second]
        let versions = PostgresTestStore.schemaVersions
        #expect(applied.flatMap { $0 } == Array(1...versions.count))
        #expect(try await a.store.migrate().isEmpty)
        let database = String(url.split(separator: "/").last!.split(separator: "?").first!)
        #expect(
            try server.psql("SELECT version, name FROM schema_migrations ORDER BY version", database: database)
                == versions.joined(separator: "\n")
        )
    }

    @Test func aConnectionStringNeverShowsItsPassword() throws {
        let url = "postgres://zumik:s3cret-pw@db.internal:5433/zumik?sslmode=require"
        let parsed = try PostgresConnectionString(url, variable: "ZUMIK_DATABASE_URL")
        #expect(parsed.description == "postgres://zumik@db.internal:5433/zumik")
        #expect(parsed.password?.value == "s3cret-pw")
        #expect(parsed.sslMode == .require)
        for bad in [
            "mysql://zumik:s3cret-pw@db/zumik", "postgres://zumik:s3cret-pw@db", "postgres://zumik:s3cret-pw@db/z?x=1",
            "postgres://zumik:s3cret-pw@db/z?sslmode=maybe",
        ] {
            #expect {
                try PostgresConnectionString(bad, variable: "ZUMIK_DATABASE_URL")
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix("environment: ZUMIK_DATABASE_URL: ") && !text.contains("s3cret")
            }
        }
    }
}
