public import Foundation
import Probing

/// The pure roll-up: raw samples of one property into hourly or daily buckets.
///
/// Each sample stands for the time from its probe to the next probe of the property, at most `spanCap`
/// (a gap longer than that, e.g. the monitor stopped, is not observed time) and never past `to`. A span
/// crossing a bucket boundary is split between the buckets. A down sample's span is downtime. Counts and
/// latency go to the bucket the probe time falls in.
public enum RollUp {
    /// - Parameters:
    ///   - samples: one property's samples, in time order; those before `from` only lend their span.
    ///   - from: start of the first bucket (aligned to `length`).
    ///   - to: end of what is rolled up (aligned to `length`, or "now" for a live, partial bucket).
    public static func buckets(
        property: String,
        samples: [HistorySample],
        from: Date,
        to: Date,
        length: HistoryBucket.Length,
        spanCap: TimeInterval
    ) -> [HistoryBucket] {
        if let first = samples.first?.location, samples.contains(where: { $0.location != first }) {
            return fleetBuckets(
                property: property,
                samples: samples,
                from: from,
                to: to,
                length: length,
                spanCap: spanCap
            )
        }
        var buckets: [Date: HistoryBucket] = [:]
        func bucket(_ start: Date, _ update: (inout HistoryBucket) -> Void) {
            update(&buckets[start, default: HistoryBucket(property: property, start: start, length: length)])
        }
        for (index, sample) in samples.enumerated() {
            if sample.at >= from, sample.at < to {
                bucket(HistoryBucket.start(of: sample.at, length)) { b in
                    b.count(sample.health, timings: sample.timings)
                }
            }
            let next = index + 1 < samples.count ? samples[index + 1].at : to
            let span = Span(
                start: max(sample.at, from),
                end: min(next, sample.at.addingTimeInterval(spanCap), to),
                health: sample.health
            )
            span.spread(length, bucket)
        }
        return buckets.values.sorted { $0.start < $1.start }
    }

    /// Hourly buckets merged into the day each belongs to.
    public static func days(from hours: [HistoryBucket]) -> [HistoryBucket] {
        var days: [String: HistoryBucket] = [:]
        for hour in hours {
            let start = HistoryBucket.start(of: hour.start, .day)
            let key = "\(hour.property)\u{0}\(start.timeIntervalSince1970)"
            days[key, default: HistoryBucket(property: hour.property, start: start, length: .day)].merge(hour)
        }
        return days.values.sorted { ($0.property, $0.start) < ($1.property, $1.start) }
    }

    /// Hourly buckets of every property in `samples` (each property's samples in time order) over `[from, to)`.
    static func hours(_ samples: [HistorySample], from: Date, to: Date, spanCap: TimeInterval) -> [HistoryBucket] {
        Dictionary(grouping: samples, by: \.property).flatMap { property, samples in
            buckets(property: property, samples: samples, from: from, to: to, length: .hour, spanCap: spanCap)
        }
    }

    /// `stored` with `live` added in (a bucket of the same property and start is merged), sorted by property,
    /// then start: what the store holds plus what is not rolled up yet.
    static func merging(_ live: [HistoryBucket], into stored: [HistoryBucket]) -> [HistoryBucket] {
        var all = stored
        var index = Dictionary(
            all.enumerated().map { ("\($1.property)\u{0}\($1.start.timeIntervalSince1970)", $0) },
            uniquingKeysWith: { a, _ in a }
        )
        for bucket in live {
            let key = "\(bucket.property)\u{0}\(bucket.start.timeIntervalSince1970)"
            if let i = index[key] {
                all[i].merge(bucket)
            } else {
                index[key] = all.count
                all.append(bucket)
            }
        }
        return all.sorted { ($0.property, $0.start) < ($1.property, $1.start) }
    }
}

extension HistoryBucket {
    /// The bucket without its latency histograms (what uptime figures need).
    init(withoutLatency bucket: HistoryBucket) {
        self = bucket
        latency = [:]
    }
}
