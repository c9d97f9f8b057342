import Foundation
import Logging
import Probing
import Testing

@testable import Monitor

/// The status page's reads (`HistoryStorage.statusHistory`, `recentIncidents`) on both backends: the same
/// figures as the general `buckets` read the page used before, and the incidents with their worst state.
@Suite struct StatusHistoryTests {
    /// A UTC midnight: "today".
    let day0 = Date(timeIntervalSince1970: 20_833 * 86_400)
    let spanCap: TimeInterval = 180
    let names = ["p0", "p1", "p2", "solo", "empty"]

    /// `p0`…`p2`: 90 days of daily rows and the last 2 days of hourly rows (as the roll-up writes them), then
    /// today's raw probes, one a minute until 11:30 (`p1` down 09:50–10:20, `p2` degraded 10:40–10:45), rolled
    /// up to `rolledAt` when given. `solo`: two daily rows only (hand-computed figures). `empty`: nothing.
    /// Returns "now".
    func seed(_ history: any HistoryStorage, rolledAt: TimeInterval?) async throws -> Date {
        _ = try await HistorySeed.fill(history, properties: 3, days: 90, hourlyDays: 2, end: day0) { "p\($0)" }
        try await history.importBuckets([
            HistoryBucket(
                property: "solo",
                start: day0 - 86400,
                length: .day,
                healthy: 1430,
                down: 10,
                observedSeconds: 86400,
                downtimeSeconds: 864
            ),
            HistoryBucket(
                property: "solo",
                start: day0 - 10 * 86400,
                length: .day,
                healthy: 1440,
                observedSeconds: 86400
            ),
        ])
        for minute in 0..<(11 * 60 + 30) {
            for p in 0..<3 {
                var health = Health.healthy
                if p == 1, (9 * 60 + 50)..<(10 * 60 + 20) ~= minute { health = .down }
                if p == 2, (10 * 60 + 40)..<(10 * 60 + 45) ~= minute { health = .degraded }
                try await history.appendSample(
                    HistorySample(
                        property: "p\(p)",
                        at: day0 + Double(minute) * 60 + Double(p),
                        health: health,
                        status: health == .down ? nil : 200,
                        timings: health == .down
                            ? nil : PhaseTimings(dnsMs: 1, connectMs: 2, firstByteMs: 20, totalMs: 25)
                    )
                )
            }
        }
        if let rolledAt { _ = try await history.rollUp(now: day0 + rolledAt, spanCap: spanCap) }
        return day0 + 11.5 * 3600 + 7
    }

    @Test(arguments: HistoryBackend.available, [nil, 10 * 3600.0])
    func theStatusReadGivesWhatTheGeneralReadGives(_ backend: HistoryBackend, rolledAt: TimeInterval?) async throws {
        let (history, _, keep) = try backend.make()
        let now = try await seed(history, rolledAt: rolledAt)
        let firstDay = day0 - 89 * 86400
        let got = try await history.statusHistory(firstDay: firstDay, now: now, spanCap: spanCap)
        let days = try await history.buckets(
            .day,
            property: nil,
            from: firstDay,
            to: now,
            now: now,
            spanCap: spanCap,
            latency: false
        )
        let hours = try await history.buckets(
            .hour,
            property: nil,
            from: now - 86400,
            to: now,
            now: now,
            spanCap: spanCap,
            latency: false
        )
        #expect(got.days == Dictionary(grouping: days, by: \.property))
        #expect(got.hours == Dictionary(grouping: hours, by: \.property))
        #expect(got.days["p1"]?.last?.downtimeSeconds ?? 0 >= 30 * 60, "today's outage is in (stored or live)")
        #expect(got.days["empty"] == nil && got.days["solo"]?.count == 2)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: HistoryBackend.available)
    func theSummaryHasTheFiguresOfTheReadItReplaced(_ backend: HistoryBackend) async throws {
        let (history, storage, keep) = try backend.make()
        let now = try await seed(history, rolledAt: 10 * 3600)
        let reader = StatusReader(
            config: MonitorConfig(properties: names.map { PropertyConfig(name: $0, url: "http://127.0.0.1:1/\($0)") }),
            storage: storage,
            history: history
        )
        let summary = try await reader.summary(now: now, publicOnly: true)
        #expect(summary.properties.map(\.name) == names)
        for property in summary.properties {
            let reference = try await Self.reference(history, property.name, now: now, spanCap: spanCap)
            #expect(property.uptime == reference.uptime, "\(property.name)")
            #expect(property.days == reference.days, "\(property.name)")
        }
        // By hand: `solo` was down 864 s of 86400 yesterday and observed a whole day 10 days ago.
        let solo = try #require(summary.properties.first { $0.name == "solo" })
        #expect(solo.uptime.last24h == nil)
        #expect(solo.uptime.last7d == 0.99)
        #expect(solo.uptime.last30d == 1 - 864.0 / 172_800)
        #expect(solo.days[88] == DayCell(date: "2027-01-14", worst: .down, downtimeMinutes: 15, probes: 1440))
        #expect(solo.days[79] == DayCell(date: "2027-01-05", worst: .healthy, downtimeMinutes: 0, probes: 1440))
        #expect(solo.days.filter { $0.worst != nil }.count == 2)
        let empty = try #require(summary.properties.first { $0.name == "empty" })
        #expect(empty.uptime == UptimeFigures() && empty.days.allSatisfy { $0.worst == nil && $0.probes == 0 })
        withExtendedLifetime(keep) {}
    }

    /// What the status page computed before `statusHistory`: one property's figures from `buckets`.
    static func reference(
        _ history: any HistoryStorage,
        _ name: String,
        now: Date,
        spanCap: TimeInterval
    ) async throws -> (uptime: UptimeFigures, days: [DayCell]) {
        let today = HistoryBucket.start(of: now, .day)
        let firstDay = today - 89 * 86400
        let hourly = try await history.buckets(
            .hour,
            property: nil,
            from: now - 86400,
            to: now,
            now: now,
            spanCap: spanCap,
            latency: false
        ).filter { $0.property == name }
        let daily = try await history.buckets(
            .day,
            property: nil,
            from: firstDay,
            to: now,
            now: now,
            spanCap: spanCap,
            latency: false
        ).filter { $0.property == name }
        func daysSince(_ count: Int) -> Double? {
            uptime(of: daily.filter { $0.start >= today - Double(count - 1) * 86400 })
        }
        let from24h = HistoryBucket.start(of: now - 86400, .hour)
        let byDay = Dictionary(daily.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return (
            UptimeFigures(
                last24h: uptime(of: hourly.filter { $0.start >= from24h }),
                last7d: daysSince(7),
                last30d: daysSince(30),
                last90d: daysSince(90)
            ),
            (0..<90).map { i in
                let start = firstDay + Double(i) * 86400
                let bucket = byDay[start]
                return DayCell(
                    date: formatter.string(from: start),
                    worst: bucket?.worst,
                    downtimeMinutes: Int(((bucket?.downtimeSeconds ?? 0) / 60).rounded(.up)),
                    probes: bucket?.probes ?? 0
                )
            }
        )
    }

    // MARK: Recent incidents

    @Test(arguments: HistoryBackend.available)
    func recentIncidentsComeNewestFirstWithTheWorstStateReached(_ backend: HistoryBackend) async throws {
        let (history, storage, keep) = try backend.make()
        let policy = Debounce.Policy(failureThreshold: 1, successThreshold: 1, confirmationDelay: nil)
        let render: @Sendable (AlertEvent) -> any OutboxMessage = { _ in PlainMessage(text: "alert") }
        var t = day0
        // Each state twice: a fresh property's first failure alone does not open an incident.
        func probe(_ property: String, _ health: Health) async throws {
            for _ in 0..<2 {
                t += 60
                let result = ProbeResult(property: property, url: "http://127.0.0.1:1/", at: t, health: health)
                _ = try await storage.record(result, policy: policy, now: t, message: render)
            }
        }
        // a: degraded, down, recovered. b: degraded, recovered. hidden: down, recovered. c: down, still open.
        for health in [Health.degraded, .down, .healthy] { try await probe("a", health) }
        for health in [Health.degraded, .healthy] { try await probe("b", health) }
        for health in [Health.down, .healthy] { try await probe("hidden", health) }
        try await probe("c", .down)

        let all = try await history.recentIncidents(properties: ["a", "b", "c"], limit: 20)
        #expect(all.map(\.incident.property) == ["c", "b", "a"], "newest first, only the properties asked")
        #expect(all.map(\.worst) == [.down, .degraded, .down])
        #expect(all.map(\.incident.health) == [.down, .healthy, .healthy], "the state now is kept as it was")
        #expect(all.map { $0.incident.closedAt == nil } == [true, false, false])
        let stored = try await storage.incidents(for: nil)
        for recent in all { #expect(stored.contains(recent.incident), "the row as the store holds it") }

        let two = try await history.recentIncidents(properties: ["a", "b", "c", "hidden"], limit: 2)
        #expect(two.map(\.incident.property) == ["c", "hidden"])
        #expect(try await history.recentIncidents(properties: [], limit: 20).isEmpty)
        #expect(try await history.recentIncidents(properties: ["nobody"], limit: 20).isEmpty)
        withExtendedLifetime(keep) {}
    }
}
