public import Foundation
public import Probing

// The values of the probe history: raw samples, and the hourly and daily roll-ups made from them.

/// One probe result as the history keeps it for the raw window.
public struct HistorySample: Sendable, Hashable {
    public var property: String
    public var at: Date
    public var health: Health
    public var status: Int?
    /// Cumulative phase timings as measured; nil when the transfer failed before any answer.
    public var timings: PhaseTimings?
    public var error: String?
    /// The location that probed (empty: kept before locations were).
    public var location: String

    public init(
        property: String,
        at: Date,
        health: Health,
        status: Int? = nil,
        timings: PhaseTimings? = nil,
        error: String? = nil,
        location: String = ""
    ) {
        self.location = location
        self.property = property
        self.at = at
        self.health = health
        self.status = status
        self.timings = timings
        self.error = error
    }

    public init(_ result: ProbeResult, location: String = "") {
        let answered = result.status != nil || result.error == nil
        self.init(
            property: result.property,
            at: result.at,
            health: result.health,
            status: result.status,
            timings: answered ? result.timings : nil,
            error: result.error.map { "\($0)" },
            location: location
        )
    }
}

/// One property's history over one hour or one day (UTC): probes by state, seconds observed and seconds
/// down (each probe stands for the time until the next one, at most the span cap), latency by phase.
public struct HistoryBucket: Sendable, Hashable {
    public enum Length: Double, Sendable, Hashable, CaseIterable {
        case hour = 3600
        case day = 86400
    }

    public var property: String
    public var start: Date
    public var length: Length
    public var healthy: Int
    public var degraded: Int
    public var down: Int
    public var observedSeconds: Double
    public var downtimeSeconds: Double
    public var latency: [LatencyPhase: LatencyHistogram]

    public init(
        property: String,
        start: Date,
        length: Length,
        healthy: Int = 0,
        degraded: Int = 0,
        down: Int = 0,
        observedSeconds: Double = 0,
        downtimeSeconds: Double = 0,
        latency: [LatencyPhase: LatencyHistogram] = [:]
    ) {
        self.property = property
        self.start = start
        self.length = length
        self.healthy = healthy
        self.degraded = degraded
        self.down = down
        self.observedSeconds = observedSeconds
        self.downtimeSeconds = downtimeSeconds
        self.latency = latency
    }

    public var end: Date { start.addingTimeInterval(length.rawValue) }
    public var probes: Int { healthy + degraded + down }

    /// The worst state seen (nil without a probe).
    public var worst: Health? {
        if down > 0 || downtimeSeconds > 0 { return .down }
        if degraded > 0 { return .degraded }
        return healthy > 0 ? .healthy : nil
    }

    /// Adds another bucket's counts (same property; the start and length stay).
    public mutating func merge(_ other: HistoryBucket) {
        healthy += other.healthy
        degraded += other.degraded
        down += other.down
        observedSeconds += other.observedSeconds
        downtimeSeconds += other.downtimeSeconds
        for (phase, histogram) in other.latency { latency[phase, default: LatencyHistogram()].merge(histogram) }
    }

    /// The UTC hour or day containing `date`.
    public static func start(of date: Date, _ length: Length) -> Date {
        let t = date.timeIntervalSince1970
        return Date(timeIntervalSince1970: (t / length.rawValue).rounded(.down) * length.rawValue)
    }
}

/// Uptime over a window: the share of observed time not down (degraded counts as up); nil when nothing was
/// observed.
public func uptime(of buckets: [HistoryBucket]) -> Double? {
    let observed = buckets.reduce(0) { $0 + $1.observedSeconds }
    guard observed > 0 else { return nil }
    let down = buckets.reduce(0) { $0 + $1.downtimeSeconds }
    return max(0, 1 - down / observed)
}

/// What one roll-up did.
public struct RollUpReport: Sendable, Hashable {
    /// Hourly rows written.
    public var hours: Int
    /// Daily rows written or rewritten.
    public var days: Int
    /// Every raw sample before this instant is rolled up (nil: nothing yet).
    public var rolledUntil: Date?

    public init(hours: Int, days: Int, rolledUntil: Date?) {
        self.hours = hours
        self.days = days
        self.rolledUntil = rolledUntil
    }
}

/// What to delete: anything older than each cutoff.
public struct RetentionCutoffs: Sendable, Hashable {
    public var rawBefore: Date
    public var hourlyBefore: Date
    public var dailyBefore: Date
    /// Outbox rows delivered before this are deleted (pending and parked rows are kept).
    public var deliveredOutboxBefore: Date

    public init(rawBefore: Date, hourlyBefore: Date, dailyBefore: Date, deliveredOutboxBefore: Date) {
        self.rawBefore = rawBefore
        self.hourlyBefore = hourlyBefore
        self.dailyBefore = dailyBefore
        self.deliveredOutboxBefore = deliveredOutboxBefore
    }
}

/// Rows deleted by one prune.
public struct PruneReport: Sendable, Hashable {
    public var samples: Int
    public var hours: Int
    public var days: Int
    public var outbox: Int

    public init(samples: Int, hours: Int, days: Int, outbox: Int) {
        self.samples = samples
        self.hours = hours
        self.days = days
        self.outbox = outbox
    }
}

/// Rows per history table.
public struct HistoryCounts: Sendable, Hashable {
    public var samples: Int
    public var hours: Int
    public var days: Int
    public var outbox: Int

    public init(samples: Int, hours: Int, days: Int, outbox: Int) {
        self.samples = samples
        self.hours = hours
        self.days = days
        self.outbox = outbox
    }
}
