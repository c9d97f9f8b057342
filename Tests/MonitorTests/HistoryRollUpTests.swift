import Foundation
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// The roll-up service and the monitor's side of the history, with an injected clock, and the store's size
/// with 90 days of roll-ups for 50 properties.
@Suite struct HistoryRollUpTests {
    let day0 = Date(timeIntervalSince1970: 20_833 * 86_400)
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func everyProbeOfTheMonitorIsKeptRawWithItsTimings() async throws {
        let dir = try TempDir()
        let server = try LoopbackServer { _ in .respond(status: 200, body: "ok") }
        defer { server.stop() }
        let config = MonitorConfig(
            storePath: dir.dbPath,
            properties: [
                PropertyConfig(name: "api", url: "\(server.baseURL)/healthz"),
                PropertyConfig(name: "gone", url: "http://127.0.0.1:1/healthz"),
            ]
        )
        let runtime = try MonitorRuntime(config: config, logger: quiet)
        let results = await runtime.monitor.checkNow()
        let samples = try await runtime.store.samples(property: nil, from: .distantPast, to: .distantFuture)
        #expect(samples.count == 2)
        let api = try #require(samples.first { $0.property == "api" })
        #expect(api.health == .healthy && api.status == 200)
        #expect(api.timings?.totalMs == results[0].timings.totalMs)
        let gone = try #require(samples.first { $0.property == "gone" })
        #expect(gone.health == .down && gone.error != nil && gone.timings == nil)
        withExtendedLifetime(dir) {}
    }

    @Test func theServiceRollsUpAndPrunesOnItsClock() async throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        // Three days of one probe a minute; the last six hours down.
        for minute in 0..<(3 * 1440) {
            let health: Health = minute >= 3 * 1440 - 360 ? .down : .healthy
            try await store.appendSample(HistorySample(property: "api", at: day0 + Double(minute) * 60, health: health))
        }
        let now = Mutex(day0 + 3 * 86400)
        let service = HistoryRollUpService(
            history: store,
            settings: HistorySettings(),
            spanCap: 180,
            logger: quiet,
            now: { now.withLock { $0 } }
        )
        let (rolled, pruned) = try #require(await service.runOnce())
        #expect(rolled.hours == 72 && rolled.days == 3)
        // Raw kept for 48 h: the first day's samples are gone, the rest stay.
        #expect(pruned.samples == 1440)
        #expect(try await store.historyCounts().samples == 2 * 1440)
        let days = try await store.buckets(
            .day,
            property: "api",
            from: day0,
            to: now.withLock { $0 },
            now: now.withLock { $0 },
            spanCap: 180,
            latency: true
        )
        #expect(days.map(\.downtimeSeconds) == [0, 0, 6 * 3600])
        #expect(days.map(\.worst) == [.healthy, .healthy, .down])

        // Fifteen days later: hourly rows past 14 days are pruned, daily ones stay.
        now.withLock { $0 = day0 + 18 * 86400 }
        let later = try #require(await service.runOnce())
        // The last probe stands for up to the span cap: its two minutes past midnight are rolled into day 4.
        #expect(later.0.hours == 1 && later.0.days == 1)
        #expect(later.1.samples == 2 * 1440 && later.1.hours == 73 && later.1.days == 0)
        #expect(try await store.historyCounts() == HistoryCounts(samples: 0, hours: 0, days: 4, outbox: 0))
        withExtendedLifetime(dir) {}
    }

    @Test func ninetyDaysOfFiftyPropertiesStayInAFewMegabytes() async throws {
        let dir = try TempDir()
        // The store closed (its write-ahead log checkpointed into the file), as it sits on disk.
        let (seeded, counts) = try await {
            let store = try MonitorStore(path: dir.dbPath)
            let seeded = try await HistorySeed.fill(store, properties: 50, days: 90, hourlyDays: 14, end: day0)
            return (seeded, try await store.historyCounts())
        }()
        let bytes = HistorySeed.bytesOnDisk(dir.dbPath)
        #expect(counts.days == 50 * 90 && counts.hours == 50 * 14 * 24)
        #expect(seeded == counts.days + counts.hours)
        print(
            "history size: 50 properties × 90 days daily + 14 days hourly (the defaults) = \(counts.days) daily + \(counts.hours) hourly rows, \(bytes / 1024) KiB on disk"
        )
        #expect(bytes < 5 << 20, "\(bytes) bytes")
        withExtendedLifetime(dir) {}
    }
}
