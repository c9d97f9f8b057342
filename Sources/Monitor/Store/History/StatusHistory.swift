public import Foundation
public import Probing

// What the status page reads of the history (`HistoryStorage.statusHistory`, `recentIncidents`), and the one
// assembly both backends share: stored rows in, what is not rolled up yet merged in, per property.

/// Every property's daily buckets and last-day hours, read in one transaction.
public struct StatusHistory: Sendable, Hashable {
    /// Property → its daily buckets from `firstDay`, oldest first (one per day that saw a probe).
    public var days: [String: [HistoryBucket]]
    /// Property → its hourly buckets since the hour `now - 24 h` falls in, oldest first.
    public var hours: [String: [HistoryBucket]]

    public init(days: [String: [HistoryBucket]] = [:], hours: [String: [HistoryBucket]] = [:]) {
        self.days = days
        self.hours = hours
    }

    /// The hour the last-24-hours uptime starts in.
    public static func firstHour(now: Date) -> Date {
        HistoryBucket.start(of: now.addingTimeInterval(-86400), .hour)
    }

    /// Where the live part (raw samples not rolled up yet) starts: `rolledUntil`, but never before the first
    /// period shown.
    static func liveFrom(rolledUntil: Date?, firstDay: Date, firstHour: Date) -> Date {
        let first = min(firstDay, firstHour)
        return max(rolledUntil ?? first, first)
    }

    /// From the stored rows (each sorted by property, then start; no latency) and the live hours computed from
    /// the raw samples not rolled up yet (`RollUp.hours` from `max(rolledUntil, firstDay)`): a live bucket of
    /// the same property and period is merged into the stored one, as `RollUp.merging` does.
    static func assemble(
        storedDays: [HistoryBucket],
        storedHours: [HistoryBucket],
        live: [HistoryBucket],
        firstHour: Date
    ) -> StatusHistory {
        let live = live.map { HistoryBucket(withoutLatency: $0) }
        return StatusHistory(
            days: merge(RollUp.days(from: live), into: storedDays),
            hours: merge(live.filter { $0.start >= firstHour }, into: storedHours)
        )
    }

    /// Groups `stored` by property (its runs, since it is sorted) and merges `live` in by start.
    static func merge(_ live: [HistoryBucket], into stored: [HistoryBucket]) -> [String: [HistoryBucket]] {
        var grouped: [String: [HistoryBucket]] = [:]
        var run: [HistoryBucket] = []
        for bucket in stored {
            if let last = run.last, last.property != bucket.property {
                grouped[last.property] = run
                run = []
            }
            run.append(bucket)
        }
        if let last = run.last { grouped[last.property] = run }
        for bucket in live {
            var buckets = grouped[bucket.property, default: []]
            if let i = buckets.lastIndex(where: { $0.start == bucket.start }) {
                buckets[i].merge(bucket)
            } else {
                let sorted = buckets.last.map { $0.start < bucket.start } ?? true
                buckets.append(bucket)
                if !sorted { buckets.sort { $0.start < $1.start } }
            }
            grouped[bucket.property] = buckets
        }
        return grouped
    }
}

/// An incident as the status page lists it: the row, and the worst state it reached.
public struct RecentIncident: Sendable, Hashable {
    public var incident: Incident
    /// The worst state of its transitions (or of the incident itself, if worse): a closed incident's
    /// `health` is healthy, this still says down or degraded.
    public var worst: Health

    public init(incident: Incident, worst: Health) {
        self.incident = incident
        self.worst = worst
    }

    /// Severity rank as the stores compute it in SQL: healthy 0, degraded 1, down 2.
    static func rank(_ health: Health) -> Int {
        switch health {
        case .healthy: 0
        case .degraded: 1
        case .down: 2
        }
    }

    /// The worse of the incident's own state and its transitions' worst rank (nil: no transition).
    static func worst(_ incident: Incident, transitionRank: Int?) -> Health {
        switch max(rank(incident.health), transitionRank ?? 0) {
        case 2: .down
        case 1: .degraded
        default: .healthy
        }
    }
}
