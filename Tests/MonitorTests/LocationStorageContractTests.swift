import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

extension StorageBackend {
    /// Two handles on one fresh store, as two monitors have (SQLite: two connections pools on one file;
    /// PostgreSQL: two pools on one database).
    func makePair() throws -> (
        first: any MonitorStorage & LocationStorage, second: any MonitorStorage & LocationStorage, keep: [AnyObject]
    ) {
        switch self {
        case .sqlite:
            let dir = try TempDir()
            return (try MonitorStore(path: dir.dbPath), try MonitorStore(path: dir.dbPath), [dir])
        case .postgres:
            let database = try PostgresTestStore()
            let sibling = try database.sibling(holder: "second")
            return (database.store, sibling.store, [database, sibling])
        }
    }
}

/// `LocationStorage` on both backends: heartbeats, and silent locations announced once fleet-wide however many
/// instances notice, and once again when they return.
@Suite struct LocationStorageContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func text(_ change: LocationChange) -> any OutboxMessage {
        PlainMessage(text: "\(change.location) \(change.kind.rawValue) \(change.live)/\(change.known)")
    }

    /// Both handles announce at `now` at once; the changes either claimed.
    func race(
        _ first: any LocationStorage,
        _ second: any LocationStorage,
        now: Date,
        window: TimeInterval = 60
    ) async throws -> [LocationChange] {
        async let a = first.announceLocationChanges(now: now, window: window, message: text)
        async let b = second.announceLocationChanges(now: now, window: window, message: text)
        return try await a + b
    }

    @Test(arguments: StorageBackend.available)
    func heartbeatsAreKeptAndNeverMoveBack(_ backend: StorageBackend) async throws {
        let (storage, _, keep) = try backend.makePair()
        try await storage.heartbeat(location: "b", now: t0 + 10)
        try await storage.heartbeat(location: "a", now: t0)
        try await storage.heartbeat(location: "b", now: t0 + 5)
        #expect(
            try await storage.locations() == [
                LocationHeartbeat(name: "a", lastSeen: t0), LocationHeartbeat(name: "b", lastSeen: t0 + 10),
            ]
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aSilentLocationIsAnnouncedOnceAndOnceAgainWhenItReturns(_ backend: StorageBackend) async throws {
        let (first, second, keep) = try backend.makePair()
        try await first.heartbeat(location: "a", now: t0)
        try await first.heartbeat(location: "b", now: t0)
        try await second.heartbeat(location: "c", now: t0 + 100)
        #expect(try await race(first, second, now: t0 + 50).isEmpty)
        // a and b silent for 100 s > 60 s: each announced once, by whichever handle claimed it.
        let silent = try await race(first, second, now: t0 + 100)
        #expect(silent.map(\.location).sorted() == ["a", "b"])
        #expect(silent.allSatisfy { $0.kind == .silent && $0.silentSince == t0 && $0.live == 1 && $0.known == 3 })
        #expect(try await race(first, second, now: t0 + 110).isEmpty)
        #expect(try await first.locations().first { $0.name == "a" }?.silentSince == t0)
        // a comes back: announced once; b stays silent, unannounced again.
        try await first.heartbeat(location: "a", now: t0 + 120)
        let back = try await race(first, second, now: t0 + 120)
        #expect(back.map(\.location) == ["a"])
        #expect(back.first?.kind == .returned)
        #expect(back.first?.live == 2)
        #expect(try await race(first, second, now: t0 + 125).isEmpty)
        let rows = try await first.allOutbox().filter { $0.kind == "location" }
        #expect(rows.map(\.payload).sorted() == ["a returned 2/3", "a silent 1/3", "b silent 1/3"])
        withExtendedLifetime(keep) {}
    }

    @Test func theAnnouncementSaysWhoSinceWhenAndHowManyAreLive() {
        let change = LocationChange(
            kind: .silent,
            location: "fra",
            silentSince: t0,
            at: t0 + 200,
            live: 2,
            known: 3
        )
        let silent = AlertFormatter.locationChange(change).content ?? ""
        #expect(silent.contains("fra"))
        #expect(silent.contains("silent since 2027-01-15T08:00:00Z"))
        #expect(silent.contains("leaves the quorum: 2 of 3 locations live"))
        var back = change
        back.kind = .returned
        back.live = 3
        let returned = AlertFormatter.locationChange(back).content ?? ""
        #expect(returned.contains("is back"))
        #expect(returned.contains("3m 20s"))
        #expect(returned.contains("rejoins the quorum: 3 of 3 locations live"))
    }
}
