import Foundation
import Monitor
import Probing
import Testing

/// What PostgreSQL adds to the history: the same figures as SQLite from the same probes, and monitors rolling up
/// together roll each hour once.
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresHistoryTests {
    /// A UTC midnight.
    let day0 = Date(timeIntervalSince1970: 20_833 * 86_400)
    let spanCap: TimeInterval = 180

    /// Three hours of two properties probed every 50 s: states and latencies varied, a gap longer than the cap.
    func samples() -> [HistorySample] {
        var samples: [HistorySample] = []
        for (p, property) in ["api", "web"].enumerated() {
            for i in 0..<216 where !(100..<110).contains(i) {
                let health: Health = (i + p) % 17 == 0 ? .down : (i % 11 == 0 ? .degraded : .healthy)
                let total = Double(5 + (i * 37 + p * 13) % 900)
                samples.append(
                    HistorySample(
                        property: property,
                        at: day0 + Double(i * 50 + p),
                        health: health,
                        status: health == .down ? nil : 200,
                        timings: health == .down
                            ? nil
                            : PhaseTimings(
                                dnsMs: 1,
                                connectMs: 3,
                                tlsMs: p == 0 ? 9 : 0,
                                firstByteMs: total - 1,
                                totalMs: total
                            ),
                        error: health == .down ? "connection refused" : nil
                    )
                )
            }
        }
        return samples.sorted { $0.at < $1.at }
    }

    @Test func theSameProbesGiveTheSameFiguresAsSQLite() async throws {
        let dir = try TempDir()
        let sqlite = try MonitorStore(path: dir.dbPath)
        let database = try PostgresTestStore()
        let stores: [any HistoryStorage] = [sqlite, database.store]
        for store in stores {
            for sample in samples() { try await store.appendSample(sample) }
        }
        // Two hours rolled up, the third read live from the raw samples.
        let now = day0 + 2 * 3600 + 1800
        var reports: [RollUpReport] = []
        var figures: [[HistoryBucket]] = []
        for store in stores {
            reports.append(try await store.rollUp(now: now, spanCap: spanCap))
            var all: [HistoryBucket] = []
            for length in HistoryBucket.Length.allCases {
                all += try await store.buckets(
                    length,
                    property: nil,
                    from: day0,
                    to: now,
                    now: now,
                    spanCap: spanCap,
                    latency: true
                )
            }
            figures.append(all)
        }
        #expect(reports[0] == reports[1])
        #expect(figures[0].count == 2 * 3 + 2)
        #expect(figures[0] == figures[1])
        #expect(
            try await sqlite.samples(property: "web", from: day0, to: now)
                == database.store.samples(
                    property: "web",
                    from: day0,
                    to: now
                )
        )
    }

    @Test func monitorsRollingUpTogetherRollEachHourOnce() async throws {
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        for sample in samples() { try await database.store.appendSample(sample) }
        let now = day0 + 3 * 3600 + 60
        let stores = [database.store, other.store, database.store, other.store]
        let reports = try await withThrowingTaskGroup(of: RollUpReport.self) { tasks in
            for store in stores { tasks.addTask { try await store.rollUp(now: now, spanCap: self.spanCap) } }
            return try await tasks.reduce(into: []) { $0.append($1) }
        }
        #expect(reports.map(\.hours).reduce(0, +) == 2 * 3)
        #expect(reports.allSatisfy { $0.rolledUntil == day0 + 3 * 3600 })
        #expect(try await database.store.historyCounts().hours == 2 * 3)
    }
}
