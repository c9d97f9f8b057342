import Foundation
import Probing

/// The roll-up of a property probed from several locations: the fleet's state over time, so that three
/// locations' samples are not counted three times and a location failing alone is not downtime.
///
/// Each location's sample stands for the time until that location's next sample (at most the span cap). At
/// every moment the fleet's state is the quorum rule's over the locations observing then (a majority of them:
/// down when a majority sees down, degraded when a majority sees down or degraded, healthy otherwise); observed
/// time is time at least one location observed, downtime is time the fleet was down. Each probe is counted
/// under the fleet's state at its time, its latency under its own phases. With one location this is the
/// single-location roll-up exactly.
extension RollUp {
    struct Span {
        var start: Date
        var end: Date
        var health: Health

        /// Adds the span to the buckets it crosses (split at their boundaries): observed seconds, and downtime
        /// when down. `bucket` updates the bucket starting at a date.
        func spread(_ length: HistoryBucket.Length, _ bucket: (Date, (inout HistoryBucket) -> Void) -> Void) {
            var spanStart = start
            while spanStart < end {
                let bucketStart = HistoryBucket.start(of: spanStart, length)
                let pieceEnd = min(end, bucketStart.addingTimeInterval(length.rawValue))
                let seconds = pieceEnd.timeIntervalSince(spanStart)
                bucket(bucketStart) { b in
                    b.observedSeconds += seconds
                    if health == .down { b.downtimeSeconds += seconds }
                }
                spanStart = pieceEnd
            }
        }
    }

    /// The fleet's state over `[from, to)`: consecutive segments, each with its state (uncovered time left out).
    static func fleetSegments(_ samples: [HistorySample], from: Date, to: Date, spanCap: TimeInterval)
        -> [Span]
    {
        var events: [(at: Date, delta: Int, health: Health)] = []
        for own in Dictionary(grouping: samples, by: \.location).values {
            for (index, sample) in own.enumerated() {
                let next = index + 1 < own.count ? own[index + 1].at : to
                let start = max(sample.at, from)
                let end = min(next, sample.at.addingTimeInterval(spanCap), to)
                guard start < end else { continue }
                events.append((start, 1, sample.health))
                events.append((end, -1, sample.health))
            }
        }
        events.sort { $0.at < $1.at }
        var segments: [Span] = []
        var observing = 0
        var down = 0
        var failing = 0
        var index = 0
        while index < events.count {
            let at = events[index].at
            while index < events.count, events[index].at == at {
                let event = events[index]
                observing += event.delta
                if event.health == .down { down += event.delta }
                if event.health != .healthy { failing += event.delta }
                index += 1
            }
            guard observing > 0, index < events.count else { continue }
            let required = observing / 2 + 1
            let health: Health = down >= required ? .down : failing >= required ? .degraded : .healthy
            let end = events[index].at
            if let last = segments.last, last.end == at, last.health == health {
                segments[segments.count - 1].end = end
            } else {
                segments.append(Span(start: at, end: end, health: health))
            }
        }
        return segments
    }

    /// `buckets` for samples from several locations (see above).
    static func fleetBuckets(
        property: String,
        samples: [HistorySample],
        from: Date,
        to: Date,
        length: HistoryBucket.Length,
        spanCap: TimeInterval
    ) -> [HistoryBucket] {
        let segments = fleetSegments(samples, from: from, to: to, spanCap: spanCap)
        var buckets: [Date: HistoryBucket] = [:]
        func bucket(_ start: Date, _ update: (inout HistoryBucket) -> Void) {
            update(&buckets[start, default: HistoryBucket(property: property, start: start, length: length)])
        }
        /// The fleet's state at `at`: the segment holding it (binary search), or nil when nobody observed.
        func fleet(at: Date) -> Health? {
            var low = 0
            var high = segments.count
            while low < high {
                let mid = (low + high) / 2
                if segments[mid].end <= at { low = mid + 1 } else { high = mid }
            }
            return low < segments.count && segments[low].start <= at ? segments[low].health : nil
        }
        for sample in samples where sample.at >= from && sample.at < to {
            bucket(HistoryBucket.start(of: sample.at, length)) { b in
                b.count(fleet(at: sample.at) ?? sample.health, timings: sample.timings)
            }
        }
        for segment in segments { segment.spread(length, bucket) }
        return buckets.values.sorted { $0.start < $1.start }
    }
}

extension HistoryBucket {
    /// Counts one probe under `health`, with its phase latencies.
    mutating func count(_ health: Health, timings: PhaseTimings?) {
        switch health {
        case .healthy: healthy += 1
        case .degraded: degraded += 1
        case .down: down += 1
        }
        guard let timings else { return }
        for phase in LatencyPhase.allCases {
            if let ms = phase.duration(in: timings) { latency[phase, default: LatencyHistogram()].add(ms) }
        }
    }
}
