import Foundation
import Monitor
import Probing
import Testing

/// Probe history per location, on both backends: three locations' samples of one property give the fleet's
/// uptime once (not three times, and a location failing alone is not downtime), and latency per location.
@Suite struct HistoryLocationContractTests {
    /// A UTC midnight.
    let day0 = Date(timeIntervalSince1970: 20_833 * 86_400)
    let spanCap: TimeInterval = 180

    func sample(_ location: String, _ offset: TimeInterval, _ health: Health, totalMs: Double = 100) -> HistorySample {
        HistorySample(
            property: "api",
            at: day0 + offset,
            health: health,
            status: health == .down ? nil : 200,
            timings: health == .down
                ? nil : PhaseTimings(dnsMs: 1, connectMs: 2, tlsMs: 0, firstByteMs: totalMs - 1, totalMs: totalMs),
            error: health == .down ? "connection refused" : nil,
            location: location
        )
    }

    /// Two hours of one probe a minute from `location` (`lag` seconds after the minute): down from minute 70 to
    /// minute 80 when `outage` (600 s).
    func twoHours(_ history: any HistoryStorage, _ location: String, lag: TimeInterval, outage: Bool) async throws {
        for minute in 0..<120 {
            let down = outage && (70..<80).contains(minute)
            try await history.appendSample(sample(location, Double(minute) * 60 + lag, down ? .down : .healthy))
        }
    }

    /// The hourly and daily figures of `api` over the two hours, read at their end.
    func figures(_ history: any HistoryStorage) async throws -> (uptime: Double?, down: Double, worst: Health?) {
        let end = day0 + 7200
        func read(_ length: HistoryBucket.Length) async throws -> [HistoryBucket] {
            try await history.buckets(
                length,
                property: "api",
                from: day0,
                to: end,
                now: end,
                spanCap: spanCap,
                latency: false
            )
        }
        let hours = try await read(.hour)
        let days = try await read(.day)
        return (uptime(of: hours), hours.reduce(0) { $0 + $1.downtimeSeconds }, days.first?.worst)
    }

    @Test(arguments: HistoryBackend.available)
    func threeLocationsGiveTheSameUptimeAsOne(_ backend: HistoryBackend) async throws {
        let (one, _, keepOne) = try backend.make()
        try await twoHours(one, "a", lag: 0, outage: true)
        let single = try await figures(one)
        #expect(single.down == 600)
        #expect(single.worst == .down)

        let (three, _, keepThree) = try backend.make()
        for (location, lag) in [("a", 0.0), ("b", 20.0), ("c", 40.0)] {
            try await twoHours(three, location, lag: lag, outage: true)
        }
        let fleet = try await figures(three)
        #expect(fleet.down == single.down)
        #expect(fleet.uptime == single.uptime)
        #expect(fleet.worst == .down)
        // The same once rolled up and stored.
        _ = try await three.rollUp(now: day0 + 7200 + 3600, spanCap: spanCap)
        #expect(try await figures(three).uptime == single.uptime)
        withExtendedLifetime((keepOne, keepThree)) {}
    }

    @Test(arguments: HistoryBackend.available)
    func aLocationFailingAloneIsNotDowntime(_ backend: HistoryBackend) async throws {
        let (history, _, keep) = try backend.make()
        try await twoHours(history, "a", lag: 0, outage: true)
        try await twoHours(history, "b", lag: 20, outage: false)
        try await twoHours(history, "c", lag: 40, outage: false)
        let fleet = try await figures(history)
        #expect(fleet.uptime == 1)
        #expect(fleet.down == 0)
        #expect(fleet.worst == .healthy)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: HistoryBackend.available)
    func latencyIsShownPerLocation(_ backend: HistoryBackend) async throws {
        let (history, storage, keep) = try backend.make()
        for minute in 0..<30 {
            for (location, ms) in [("fra", 40.0), ("iad", 120.0), ("sin", 250.0)] {
                try await history.appendSample(sample(location, Double(minute) * 60, .healthy, totalMs: ms))
            }
        }
        let reader = StatusReader(
            config: MonitorConfig(properties: [PropertyConfig(name: "api", url: "https://api.example/")]),
            storage: storage,
            history: history
        )
        let report = try await reader.latency(property: "api", hours: 24, now: day0 + 1800)
        let locations = try #require(report.locations)
        #expect(locations.map(\.location) == ["fra", "iad", "sin"])
        #expect(locations.map(\.probes) == [30, 30, 30])
        let totals = locations.compactMap { $0.phases["total"]?.p50 }
        #expect(totals.count == 3)
        // Within the histogram's resolution (12.5 %).
        for (total, expected) in zip(totals, [40.0, 120.0, 250.0]) {
            #expect(abs(total - expected) / expected < 0.125, "\(total) vs \(expected)")
        }
        #expect(locations.allSatisfy { $0.phases["connect"] != nil })
        withExtendedLifetime(keep) {}
    }
}
