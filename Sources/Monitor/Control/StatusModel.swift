public import Foundation
public import Probing

// The values the `/v1/` status routes answer and the pages show (JSON keys in snake_case; dates ISO 8601).

/// `GET /v1/status-page`: what the public status page shows.
public struct StatusSummary: Sendable, Codable {
    public var title: String
    public var generatedAt: Date
    public var properties: [PropertySummary]
    /// Most recent first, at most `StatusReader.recentIncidentLimit`.
    public var incidents: [IncidentSummary]

    enum CodingKeys: String, CodingKey {
        case title
        case generatedAt = "generated_at"
        case properties, incidents
    }
}

public struct PropertySummary: Sendable, Codable {
    public var name: String
    /// The debounced state; nil before the first probe.
    public var state: Health?
    public var silencedUntil: Date?
    /// Uptime (0…1) over the last 24 h, 7 d, 30 d and 90 d; nil without observations.
    public var uptime: UptimeFigures
    /// The last 90 UTC days, oldest first.
    public var days: [DayCell]
    /// `notAfter` of the certificate the last probe saw (https only).
    public var certificateExpiry: Date?
    /// What each live location sees, when more than one reports the property (nil otherwise).
    public var locations: [LocationView]?

    enum CodingKeys: String, CodingKey {
        case name, state, locations
        case silencedUntil = "silenced_until"
        case uptime, days
        case certificateExpiry = "certificate_expiry"
    }
}

public struct UptimeFigures: Sendable, Codable, Hashable {
    public var last24h: Double?
    public var last7d: Double?
    public var last30d: Double?
    public var last90d: Double?

    enum CodingKeys: String, CodingKey {
        case last24h = "24h"
        case last7d = "7d"
        case last30d = "30d"
        case last90d = "90d"
    }
}

/// One cell of the 90-day bar.
public struct DayCell: Sendable, Codable, Hashable {
    /// `YYYY-MM-DD` (UTC).
    public var date: String
    /// The worst state seen that day; nil: no data.
    public var worst: Health?
    /// Minutes down, rounded up (a down second shows as one minute).
    public var downtimeMinutes: Int
    public var probes: Int

    enum CodingKeys: String, CodingKey {
        case date, worst
        case downtimeMinutes = "downtime_minutes"
        case probes
    }
}

public struct IncidentSummary: Sendable, Codable, Hashable {
    public var id: IncidentID
    public var property: String
    /// The state now: healthy once closed.
    public var health: Health
    /// The worst state the incident reached (a closed one keeps it).
    public var worst: Health
    public var openedAt: Date
    public var closedAt: Date?
    /// Until closed, or until now while open.
    public var durationSeconds: Double
    public var paged: Bool

    enum CodingKeys: String, CodingKey {
        case id, property, health, worst
        case openedAt = "opened_at"
        case closedAt = "closed_at"
        case durationSeconds = "duration_seconds"
        case paged
    }
}

/// `GET /v1/incidents/{id}/timeline`: everything that happened, in order.
public struct IncidentTimeline: Sendable, Codable {
    public var incident: IncidentSummary
    public var entries: [TimelineEntry]
}

public struct TimelineEntry: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, Hashable {
        case detection, transition, recovery, alert, started, diagnostic, action, result, violation, reprobe
        case modelFailed = "model_failed"
        case healed, page, note
    }

    public var at: Date
    public var kind: Kind
    /// One line saying what happened.
    public var summary: String
    public var path: String?
    public var tool: String?
    public var reason: String?
    public var result: String?
    public var auditID: String?
    public var reprobe: String?

    enum CodingKeys: String, CodingKey {
        case at, kind, summary, path, tool, reason, result
        case auditID = "audit_id"
        case reprobe
    }
}

/// `GET /v1/properties/{name}/latency`: hourly p50/p95 per phase (ms).
public struct LatencyReport: Sendable, Codable {
    public var property: String
    public var hours: [LatencyHour]
    /// The same window per probing location (from the raw samples), by location.
    public var locations: [LocationLatency]?
}

/// One location's latency over a window: phase → percentiles.
public struct LocationLatency: Sendable, Codable, Hashable {
    public var location: String
    public var probes: Int
    public var phases: [String: Percentiles]
}

public struct LatencyHour: Sendable, Codable, Hashable {
    public var start: Date
    public var probes: Int
    /// Phase (`dns`, `connect`, `tls`, `first_byte`, `total`) → percentiles.
    public var phases: [String: Percentiles]
}

public struct Percentiles: Sendable, Codable, Hashable {
    public var p50: Double
    public var p95: Double
}

/// `GET /v1/silences`: properties silenced now.
public struct SilenceList: Sendable, Codable {
    public var silences: [Silence]

    public struct Silence: Sendable, Codable, Hashable {
        public var property: String
        public var until: Date
    }
}
