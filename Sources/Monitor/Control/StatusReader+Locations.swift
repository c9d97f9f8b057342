import Foundation
import Probing

/// Latency per probing location: the operator view and `/v1/properties/{name}/latency` show each location's
/// phases beside the fleet's hourly ones.
extension StatusReader {
    /// Each location's p50/p95 per phase over `[from, now)`, from the raw samples (the raw window only).
    func locationLatency(property: String, from: Date, now: Date) async throws -> [LocationLatency] {
        let samples = try await history.samples(property: property, from: from, to: now)
        return Dictionary(grouping: samples, by: \.location).map { location, own in
            var bucket = HistoryBucket(property: property, start: from, length: .hour)
            for sample in own { bucket.count(sample.health, timings: sample.timings) }
            return LocationLatency(location: location, probes: own.count, phases: Self.percentiles(bucket.latency))
        }.sorted { $0.location < $1.location }
    }

    /// `summary` with each property's per-location view where more than one live location reports it.
    func withLocations(_ summary: StatusSummary, now: Date) async throws -> StatusSummary {
        guard let fleet = storage as? any LocationStorage else { return summary }
        let window = config.locationLiveWindow
        let live = Set(try await fleet.locations().filter { $0.isLive(at: now, window: window) }.map(\.name))
        let views = Dictionary(
            grouping: try await fleet.locationViews(property: nil).filter { live.contains($0.location) },
            by: \.property
        )
        var summary = summary
        for index in summary.properties.indices {
            if let own = views[summary.properties[index].name], own.count > 1 {
                summary.properties[index].locations = own
            }
        }
        return summary
    }

    /// Phase name → p50 and p95 (ms, one decimal) of each histogram with data.
    static func percentiles(_ latency: [LatencyPhase: LatencyHistogram]) -> [String: Percentiles] {
        var phases: [String: Percentiles] = [:]
        for (phase, histogram) in latency {
            if let p50 = histogram.percentile(0.5), let p95 = histogram.percentile(0.95) {
                phases[phase.rawValue] = Percentiles(p50: (p50 * 10).rounded() / 10, p95: (p95 * 10).rounded() / 10)
            }
        }
        return phases
    }
}
