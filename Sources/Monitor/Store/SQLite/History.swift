public import Foundation
import GRDB

/// `HistoryStorage` on the SQLite store: each method one transaction over `HistoryRepository`.
extension MonitorStore: HistoryStorage {
    public func appendSample(_ sample: HistorySample) async throws {
        try writeSync { db in try HistoryRepository.insert(db, sample) }
    }

    public func samples(property: String?, from: Date, to: Date) async throws -> [HistorySample] {
        try readSync { db in try HistoryRepository.samples(db, property: property, from: from, to: to) }
    }

    public func rollUp(now: Date, spanCap: TimeInterval) async throws -> RollUpReport {
        try writeSync { db in
            let target = HistoryBucket.start(of: now, .hour)
            guard
                let from = try HistoryRepository.rolledUntil(db)
                    ?? HistoryRepository.earliestSample(db).map({ HistoryBucket.start(of: $0, .hour) })
            else { return RollUpReport(hours: 0, days: 0, rolledUntil: nil) }
            guard from < target else { return RollUpReport(hours: 0, days: 0, rolledUntil: from) }
            let samples = try HistoryRepository.samples(
                db,
                property: nil,
                from: from.addingTimeInterval(-spanCap),
                to: target.addingTimeInterval(spanCap)
            )
            let hours = RollUp.hours(samples, from: from, to: target, spanCap: spanCap)
            for hour in hours { try HistoryRepository.save(db, hour) }
            // Each day touched, from all of its hours (those rolled before included).
            let touched = Set(hours.map { HistoryBucket.start(of: $0.start, .day) })
            var days: [HistoryBucket] = []
            for day in touched {
                let all = try HistoryRepository.buckets(
                    db,
                    .hour,
                    property: nil,
                    from: day,
                    to: day.addingTimeInterval(HistoryBucket.Length.day.rawValue)
                )
                days += RollUp.days(from: all)
            }
            for day in days { try HistoryRepository.save(db, day) }
            try HistoryRepository.setRolledUntil(db, target)
            return RollUpReport(hours: hours.count, days: days.count, rolledUntil: target)
        }
    }

    public func buckets(
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        now: Date,
        spanCap: TimeInterval,
        latency: Bool
    ) async throws -> [HistoryBucket] {
        try readSync { db in
            let alignedFrom = HistoryBucket.start(of: from, length)
            let rolled = try HistoryRepository.rolledUntil(db)
            let stored = try HistoryRepository.buckets(
                db,
                length,
                property: property,
                from: alignedFrom,
                to: to,
                latency: latency
            )
            // Not rolled up yet: from the raw samples, as hours, merged into what is stored.
            let liveFrom = max(rolled ?? alignedFrom, alignedFrom)
            let liveTo = min(now, to)
            guard liveFrom < liveTo else { return stored }
            let samples = try HistoryRepository.samples(
                db,
                property: property,
                from: liveFrom.addingTimeInterval(-spanCap),
                to: liveTo
            )
            var live = RollUp.hours(samples, from: liveFrom, to: liveTo, spanCap: spanCap)
            if length == .day { live = RollUp.days(from: live) }
            if !latency { live = live.map { HistoryBucket(withoutLatency: $0) } }
            return RollUp.merging(live, into: stored)
        }
    }

    public func importBuckets(_ buckets: [HistoryBucket]) async throws {
        try writeSync { db in
            for bucket in buckets { try HistoryRepository.save(db, bucket) }
        }
    }

    public func prune(_ cutoffs: RetentionCutoffs) async throws -> PruneReport {
        try writeSync { db in
            // Raw samples not rolled up yet stay, whatever their age.
            let rolled = try HistoryRepository.rolledUntil(db) ?? .distantPast
            return PruneReport(
                samples: try HistoryRepository.delete(
                    db,
                    from: "probe_samples",
                    column: "at",
                    before: min(cutoffs.rawBefore, rolled)
                ),
                hours: try HistoryRepository.delete(
                    db,
                    from: "history_hourly",
                    column: "start",
                    before: cutoffs.hourlyBefore
                ),
                days: try HistoryRepository.delete(
                    db,
                    from: "history_daily",
                    column: "start",
                    before: cutoffs.dailyBefore
                ),
                outbox: try HistoryRepository.delete(
                    db,
                    from: "outbox",
                    column: "delivered_at",
                    before: cutoffs.deliveredOutboxBefore
                )
            )
        }
    }

    public func historyCounts() async throws -> HistoryCounts {
        try readSync { db in
            HistoryCounts(
                samples: try HistoryRepository.count(db, "probe_samples"),
                hours: try HistoryRepository.count(db, "history_hourly"),
                days: try HistoryRepository.count(db, "history_daily"),
                outbox: try HistoryRepository.count(db, "outbox")
            )
        }
    }

    /// GRDB's synchronous forms, named so async callers use them too (see `MonitorStore`: a cancelled task
    /// still completes a write it started).
    private func writeSync<T>(_ updates: (Database) throws -> T) throws -> T { try pool.write(updates) }
    private func readSync<T>(_ value: (Database) throws -> T) throws -> T { try pool.read(value) }
}
