public import Foundation

/// The probe history behind its own seam (beside `MonitorStorage`, so a second backend adopts it on its own):
/// raw samples for a short window, hourly and daily roll-ups for long ones, and the pruning that keeps the
/// store small. Every method is one domain operation and one transaction, values in and out.
///
/// Roll-ups are written once an hour is complete (`rollUp`); what is newer than the last roll-up is computed
/// from the raw samples when read (`hourly`, `daily`), so readers always see up to `now`.
public protocol HistoryStorage: Sendable {
    /// Keeps one probe result for the raw window.
    func appendSample(_ sample: HistorySample) async throws

    /// Raw samples with `from <= at < to` (every property when `property` is nil), in time order.
    func samples(property: String?, from: Date, to: Date) async throws -> [HistorySample]

    /// Rolls every complete hour since the last roll-up into hourly rows, and rewrites the daily rows of the
    /// days touched from their hours. Never rolls an hour twice; a sample older than the last roll-up when it
    /// arrives is kept raw but not rolled.
    func rollUp(now: Date, spanCap: TimeInterval) async throws -> RollUpReport

    /// Hourly (or daily) buckets overlapping `[from, to)`: stored roll-ups, plus what is not rolled up yet
    /// computed from raw samples up to `now`. One bucket per property and period that saw a probe. Without
    /// `latency` the histograms are left out (what uptime figures need, read faster).
    func buckets(
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        now: Date,
        spanCap: TimeInterval,
        latency: Bool
    ) async throws -> [HistoryBucket]

    /// Writes roll-ups as given (importing history from elsewhere; seeding tests and benchmarks). A row for
    /// the same property, period and length is replaced.
    func importBuckets(_ buckets: [HistoryBucket]) async throws

    /// Deletes what is older than each cutoff: raw samples (only those already rolled up), hourly and daily
    /// rows, and delivered outbox rows. Pending and parked outbox rows are never deleted.
    func prune(_ cutoffs: RetentionCutoffs) async throws -> PruneReport

    /// Rows in each table the history keeps small.
    func historyCounts() async throws -> HistoryCounts

    // MARK: The status page's reads

    /// What the status page shows of every property's history, in one transaction: the daily buckets from
    /// `firstDay` and the hours since `now - 24 h` (counts and seconds, no latency), each stored row with what
    /// is not rolled up yet merged in (the figures `buckets(.day, …)` and `buckets(.hour, …)` give).
    func statusHistory(firstDay: Date, now: Date, spanCap: TimeInterval) async throws -> StatusHistory

    /// The `limit` incidents of `properties` opened last (most recent first), each with the worst state it
    /// reached (from its transitions, so a closed one still says how bad it was).
    func recentIncidents(properties: [String], limit: Int) async throws -> [RecentIncident]
}
