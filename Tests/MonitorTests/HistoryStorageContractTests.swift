import Foundation
import Monitor
import Probing
import Testing

/// A history backend under test: each call gives a fresh, empty store. Both backends run the same contract;
/// PostgreSQL's cases are left out (with a printed reason) only where PostgreSQL is not installed.
enum HistoryBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The backends this machine can run.
    static var available: [HistoryBackend] {
        PostgresTestStore.unavailableReason == nil ? allCases : [.sqlite]
    }

    func make() throws -> (history: any HistoryStorage, storage: any MonitorStorage, keep: AnyObject) {
        switch self {
        case .sqlite:
            let dir = try TempDir()
            let store = try MonitorStore(path: dir.dbPath)
            return (store, store, dir)
        case .postgres:
            let database = try PostgresTestStore()
            return (database.store, database.store, database)
        }
    }
}

/// The `HistoryStorage` contract, only through the protocol, with the time given (no wall clock): what the
/// roll-up counts, how long it keeps what, and what readers see before a roll-up.
@Suite struct HistoryStorageContractTests {
    /// A UTC midnight.
    let day0 = Date(timeIntervalSince1970: 20_833 * 86_400)
    let spanCap: TimeInterval = 180

    func sample(_ property: String, _ offset: TimeInterval, _ health: Health, totalMs: Double = 100) -> HistorySample {
        HistorySample(
            property: property,
            at: day0 + offset,
            health: health,
            status: health == .down ? nil : 200,
            timings: health == .down
                ? nil : PhaseTimings(dnsMs: 1, connectMs: 2, tlsMs: 0, firstByteMs: totalMs - 1, totalMs: totalMs),
            error: health == .down ? "connection refused" : nil
        )
    }

    /// Buckets with their latency, the span cap of these tests.
    func read(
        _ history: any HistoryStorage,
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        now: Date
    ) async throws -> [HistoryBucket] {
        try await history.buckets(
            length,
            property: property,
            from: from,
            to: to,
            now: now,
            spanCap: spanCap,
            latency: true
        )
    }

    /// Two hours of one probe a minute: the first hour healthy with latencies 1…60 ms, the second down from
    /// minute 10 to minute 20 (ten probes, 600 s).
    func twoHours(_ history: any HistoryStorage, property: String = "api") async throws {
        for minute in 0..<60 {
            try await history.appendSample(sample(property, Double(minute) * 60, .healthy, totalMs: Double(minute + 1)))
        }
        for minute in 0..<60 {
            let down = (10..<20).contains(minute)
            try await history.appendSample(sample(property, 3600 + Double(minute) * 60, down ? .down : .healthy))
        }
    }

    @Test(arguments: HistoryBackend.available)
    func rollUpCountsStatesDowntimeAndLatency(_ backend: HistoryBackend) async throws {
        let (history, _, keep) = try backend.make()
        try await twoHours(history)
        let now = day0 + 7200 + 300
        let report = try await history.rollUp(now: now, spanCap: spanCap)
        #expect(report.hours == 2)
        #expect(report.days == 1)
        #expect(report.rolledUntil == day0 + 7200)

        let hours = try await read(history, .hour, property: "api", from: day0, to: day0 + 7200, now: now)
        try #require(hours.count == 2)
        #expect(hours[0].healthy == 60 && hours[0].down == 0)
        #expect(hours[0].observedSeconds == 3600 && hours[0].downtimeSeconds == 0)
        #expect(hours[1].healthy == 50 && hours[1].down == 10)
        #expect(hours[1].observedSeconds == 3600 && hours[1].downtimeSeconds == 600)
        #expect(hours[1].worst == .down && hours[0].worst == .healthy)
        // Latencies 1…60 ms: p50 ≈ 30, p95 ≈ 57, each within one bucket (12.5 %).
        let total = try #require(hours[0].latency[.total])
        #expect(total.total == 60)
        let p50 = try #require(total.percentile(0.5))
        let p95 = try #require(total.percentile(0.95))
        #expect(abs(p50 - 30) / 30 < 0.125, "p50 \(p50)")
        #expect(abs(p95 - 57) / 57 < 0.125, "p95 \(p95)")
        #expect(hours[0].latency[.tls] == nil, "plain HTTP has no TLS phase")

        let days = try await read(history, .day, property: "api", from: day0, to: day0 + 7200, now: now)
        try #require(days.count == 1)
        #expect(days[0].healthy == 110 && days[0].down == 10 && days[0].downtimeSeconds == 600)
        #expect(uptime(of: days) == 1 - 600.0 / 7200)

        // The same hours are never rolled twice.
        #expect(try await history.rollUp(now: now, spanCap: spanCap).hours == 0)
        let again = try await read(history, .day, property: "api", from: day0, to: day0 + 7200, now: now)
        #expect(again == days)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: HistoryBackend.available)
    func readersSeeWhatIsNotRolledUpYet(_ backend: HistoryBackend) async throws {
        let (history, _, keep) = try backend.make()
        try await twoHours(history)
        _ = try await history.rollUp(now: day0 + 7200, spanCap: spanCap)
        // Third hour, not rolled up: two probes, the second down.
        try await history.appendSample(sample("api", 7200, .healthy))
        try await history.appendSample(sample("api", 7260, .down))
        let now = day0 + 7500
        let hours = try await read(history, .hour, property: nil, from: day0, to: now, now: now)
        try #require(hours.count == 3)
        #expect(hours[2].healthy == 1 && hours[2].down == 1)
        // 7200→7260 healthy; 7260→ at most the span cap (180 s) down.
        #expect(hours[2].observedSeconds == 240 && hours[2].downtimeSeconds == 180)
        let days = try await read(history, .day, property: nil, from: day0, to: now, now: now)
        try #require(days.count == 1)
        #expect(days[0].probes == 122 && days[0].downtimeSeconds == 780)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: HistoryBackend.available)
    func pruningKeepsEachResolutionForItsRetention(_ backend: HistoryBackend) async throws {
        let (history, storage, keep) = try backend.make()
        try await twoHours(history)
        try await twoHours(history, property: "web")
        // Not rolled up yet: no raw sample may go, whatever its age.
        let early = try await history.prune(
            RetentionCutoffs(
                rawBefore: day0 + 86400,
                hourlyBefore: day0,
                dailyBefore: day0,
                deliveredOutboxBefore: day0
            )
        )
        #expect(early.samples == 0)
        _ = try await history.rollUp(now: day0 + 7200, spanCap: spanCap)

        let delivered = try await storage.enqueue(
            PlainMessage(text: "old"),
            kind: "transition",
            incidentID: nil,
            now: day0
        )
        try await storage.markDelivered(delivered, at: day0 + 10)
        let pending = try await storage.enqueue(PlainMessage(text: "pending"), kind: "page", incidentID: nil, now: day0)
        let parked = try await storage.enqueue(PlainMessage(text: "parked"), kind: "page", incidentID: nil, now: day0)
        try await storage.markFailed(parked, at: day0 + 10, error: "400")

        let pruned = try await history.prune(
            RetentionCutoffs(
                rawBefore: day0 + 3600,
                hourlyBefore: day0 + 3600,
                dailyBefore: day0,
                deliveredOutboxBefore: day0 + 3600
            )
        )
        #expect(pruned == PruneReport(samples: 120, hours: 2, days: 0, outbox: 1))
        let counts = try await history.historyCounts()
        #expect(counts == HistoryCounts(samples: 120, hours: 2, days: 2, outbox: 2))
        #expect(try await storage.allOutbox().map(\.id) == [pending, parked])
        let left = try await history.samples(property: "api", from: day0, to: day0 + 86400)
        #expect(left.count == 60 && left.allSatisfy { $0.at >= day0 + 3600 })
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: HistoryBackend.available)
    func importedBucketsReadBackAsWritten(_ backend: HistoryBackend) async throws {
        let (history, _, keep) = try backend.make()
        var histogram = LatencyHistogram()
        for ms in [3.0, 40, 41, 900] { histogram.add(ms) }
        let bucket = HistoryBucket(
            property: "api",
            start: day0,
            length: .day,
            healthy: 1430,
            degraded: 5,
            down: 5,
            observedSeconds: 86400,
            downtimeSeconds: 300,
            latency: [.total: histogram, .dns: histogram]
        )
        try await history.importBuckets([bucket])
        let read = try await read(history, .day, property: "api", from: day0, to: day0 + 86400, now: day0 + 86400)
        #expect(read == [bucket])
        withExtendedLifetime(keep) {}
    }
}

/// The pure roll-up, on its own.
@Suite struct RollUpTests {
    let hour0 = Date(timeIntervalSince1970: 500_000 * 3600)

    @Test func aSpanCrossingAnHourIsSplitAndAGapLongerThanTheCapIsNotObserved() {
        let samples = [
            HistorySample(property: "api", at: hour0 + 3590, health: .down),
            HistorySample(property: "api", at: hour0 + 3650, health: .healthy),
            // 1 000 s later: only the cap (100 s) of the healthy one counts.
            HistorySample(property: "api", at: hour0 + 4650, health: .healthy),
        ]
        let buckets = RollUp.buckets(
            property: "api",
            samples: samples,
            from: hour0,
            to: hour0 + 7200,
            length: .hour,
            spanCap: 100
        )
        #expect(buckets.count == 2)
        #expect(buckets[0].observedSeconds == 10 && buckets[0].downtimeSeconds == 10 && buckets[0].down == 1)
        #expect(buckets[1].observedSeconds == 50 + 100 + 100 && buckets[1].downtimeSeconds == 50)
        #expect(buckets[1].healthy == 2)
    }

    @Test func histogramsMergeAndSurviveTheirStoredForm() {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        for ms in 1...50 { a.add(Double(ms)) }
        for ms in 51...100 { b.add(Double(ms)) }
        a.merge(b)
        #expect(a.total == 100)
        #expect(LatencyHistogram(encoded: a.encoded) == a)
        let p50 = a.percentile(0.5) ?? 0
        #expect(abs(p50 - 50) / 50 < 0.125)
        #expect(LatencyHistogram().percentile(0.5) == nil)
        #expect(LatencyHistogram.bucket(of: 1e9) == LatencyHistogram.upperBoundsMs.count)
    }
}
