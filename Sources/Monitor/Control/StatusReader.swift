public import Foundation
import Probing

/// Builds the status values from the storage: one read of the states, one of the hourly and one of the daily
/// history, for every property at once.
public struct StatusReader: Sendable {
    public static let recentIncidentLimit = 20
    public let config: MonitorConfig
    public let storage: any MonitorStorage
    public let history: any HistoryStorage

    public init(config: MonitorConfig, storage: any MonitorStorage, history: any HistoryStorage) {
        self.config = config
        self.storage = storage
        self.history = history
    }

    var spanCap: TimeInterval { HistorySpan.cap(interval: config.interval) }

    /// The properties a page shows: the status page's list (`public`), or all.
    public func propertyNames(publicOnly: Bool) -> [String] {
        let all = config.properties.map(\.name)
        return publicOnly ? (config.statusPage.properties ?? all) : all
    }

    public func summary(now: Date, publicOnly: Bool) async throws -> StatusSummary {
        let names = propertyNames(publicOnly: publicOnly)
        let wanted = Set(names)
        let states = Dictionary(
            try await storage.allStates().map { ($0.name, $0) },
            uniquingKeysWith: { a, _ in a }
        )
        // Uptime needs no latency: the last day by hour, 90 days by day (7, 30 and 90 days count whole UTC
        // days, today included).
        let hours = Dictionary(
            grouping: try await history.buckets(
                .hour,
                property: nil,
                from: now.addingTimeInterval(-86400),
                to: now,
                now: now,
                spanCap: spanCap,
                latency: false
            ),
            by: \.property
        )
        let firstDay = HistoryBucket.start(of: now, .day).addingTimeInterval(-89 * 86400)
        let days = Dictionary(
            grouping: try await history.buckets(
                .day,
                property: nil,
                from: firstDay,
                to: now,
                now: now,
                spanCap: spanCap,
                latency: false
            ),
            by: \.property
        )
        // The 90 dates once, for every property.
        let dates = (0..<90).map { Self.day(firstDay.addingTimeInterval(Double($0) * 86400)) }
        let properties = names.map { name in
            let state = states[name]
            let hourly = hours[name] ?? []
            let daily = days[name] ?? []
            func hoursSince(_ seconds: TimeInterval) -> [HistoryBucket] {
                let from = HistoryBucket.start(of: now.addingTimeInterval(-seconds), .hour)
                return hourly.filter { $0.start >= from }
            }
            func daysSince(_ count: Int) -> [HistoryBucket] {
                let from = HistoryBucket.start(of: now, .day).addingTimeInterval(-Double(count - 1) * 86400)
                return daily.filter { $0.start >= from }
            }
            let byDay = Dictionary(daily.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
            let cells = (0..<90).map { i -> DayCell in
                let start = firstDay.addingTimeInterval(Double(i) * 86400)
                let bucket = byDay[start]
                return DayCell(
                    date: dates[i],
                    worst: bucket?.worst,
                    downtimeMinutes: Int(((bucket?.downtimeSeconds ?? 0) / 60).rounded(.up)),
                    probes: bucket?.probes ?? 0
                )
            }
            return PropertySummary(
                name: name,
                state: state?.health,
                silencedUntil: state?.silencedUntil.flatMap { $0 > now ? $0 : nil },
                uptime: UptimeFigures(
                    last24h: uptime(of: hoursSince(86400)),
                    last7d: uptime(of: daysSince(7)),
                    last30d: uptime(of: daysSince(30)),
                    last90d: uptime(of: daysSince(90))
                ),
                days: cells,
                certificateExpiry: state?.lastResult?.certificateExpiry
            )
        }
        let incidents = try await storage.incidents(for: nil)
            .filter { wanted.contains($0.property) }
            .sorted { $0.openedAt > $1.openedAt }
            .prefix(Self.recentIncidentLimit)
            .map { Self.summary($0, now: now) }
        let summary = StatusSummary(
            title: config.statusPage.title,
            generatedAt: now,
            properties: properties,
            incidents: Array(incidents)
        )
        return try await withLocations(summary, now: now)
    }

    public func latency(property: String, hours count: Int, now: Date) async throws -> LatencyReport {
        let from = HistoryBucket.start(of: now, .hour).addingTimeInterval(-Double(count - 1) * 3600)
        let hours = try await history.buckets(
            .hour,
            property: property,
            from: from,
            to: now,
            now: now,
            spanCap: spanCap,
            latency: true
        )
        return LatencyReport(
            property: property,
            hours: hours.map { hour in
                LatencyHour(start: hour.start, probes: hour.probes, phases: Self.percentiles(hour.latency))
            },
            locations: try await locationLatency(property: property, from: from, now: now)
        )
    }

    /// nil when the incident does not exist.
    public func timeline(_ id: IncidentID, now: Date) async throws -> IncidentTimeline? {
        guard let incident = try await storage.incident(id: id) else { return nil }
        var entries = try await storage.incidentEvents(incidentID: id).enumerated().map { index, event in
            TimelineEntries.entry(event, first: index == 0)
        }
        entries += try await storage.allOutbox().filter { $0.incidentID == id }.map(TimelineEntries.alert)
        entries.sort { $0.at < $1.at }
        return IncidentTimeline(incident: Self.summary(incident, now: now), entries: entries)
    }

    public func silences(now: Date) async throws -> SilenceList {
        SilenceList(
            silences: try await storage.allStates().compactMap { state in
                guard let until = state.silencedUntil, until > now else { return nil }
                return SilenceList.Silence(property: state.name, until: until)
            }
        )
    }

    static func summary(_ incident: Incident, now: Date) -> IncidentSummary {
        IncidentSummary(
            id: incident.id,
            property: incident.property,
            health: incident.health,
            openedAt: incident.openedAt,
            closedAt: incident.closedAt,
            durationSeconds: (incident.closedAt ?? now).timeIntervalSince(incident.openedAt),
            paged: incident.pagedAt != nil
        )
    }

    static func day(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }
}
