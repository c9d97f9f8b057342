import Foundation
import Monitor
import Probing

/// Realistic roll-ups for tests that need long history (the 90-day bar, the size figure): latencies spread
/// over a few buckets per phase, an outage now and then.
enum HistorySeed {
    /// Writes `days` daily rows and the last `hourlyDays` days of hourly rows per property, ending at `end`
    /// (exclusive). Returns the rows written.
    static func fill(
        _ history: any HistoryStorage,
        properties: Int,
        days: Int,
        hourlyDays: Int,
        end: Date,
        names: (Int) -> String = { "property-\($0)" }
    ) async throws -> Int {
        // In time order, as the roll-up writes them.
        var written = 0
        for d in 0..<days {
            let dayStart = end.addingTimeInterval(-Double(days - d) * 86400)
            var rows: [HistoryBucket] = []
            for p in 0..<properties {
                var day = HistoryBucket(property: names(p), start: dayStart, length: .day)
                for h in 0..<24 {
                    let hour = bucket(
                        names(p),
                        dayStart.addingTimeInterval(Double(h) * 3600),
                        seed: p * 100_000 + d * 24 + h
                    )
                    day.merge(hour)
                    if d >= days - hourlyDays { rows.append(hour) }
                }
                rows.append(day)
            }
            try await history.importBuckets(rows)
            written += rows.count
        }
        return written
    }

    /// One hour of one-a-minute probes: latencies around 20–80 ms, a 7-minute outage every ~97 hours.
    static func bucket(_ property: String, _ start: Date, seed: Int) -> HistoryBucket {
        var b = HistoryBucket(property: property, start: start, length: .hour, observedSeconds: 3600)
        let outage = seed % 97 == 0
        b.down = outage ? 7 : 0
        b.healthy = 60 - b.down
        b.downtimeSeconds = outage ? 420 : 0
        for phase in LatencyPhase.allCases where phase != .tls || seed % 2 == 0 {
            // Thirteen latencies, base × 1.0 … 2.2, in equal shares (the seed picks which get the remainder).
            let base: Double = phase == .total ? 40 : phase == .firstByte ? 25 : 3
            var counts: [Int: Int] = [:]
            for k in 0..<13 {
                let share = b.healthy / 13 + ((k + seed) % 13 < b.healthy % 13 ? 1 : 0)
                counts[LatencyHistogram.bucket(of: base * (1 + Double(k) / 10)), default: 0] += share
            }
            b.latency[phase] = LatencyHistogram(counts: counts)
        }
        return b
    }

    /// The SQLite file and its write-ahead log.
    static func bytesOnDisk(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0)
        }
    }
}
