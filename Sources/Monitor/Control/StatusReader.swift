import ActionKit
public import Foundation
import Probing

/// Builds the status values from the storage, for every property at once: the status page is one read of the
/// states, one of the history (`HistoryStorage.statusHistory`) and one of the recent incidents.
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

    /// The status page: live states (one read), every property's 90 days and last 24 hours (one read,
    /// `HistoryStorage.statusHistory`) and the recent incidents with their worst state (one read).
    public func summary(now: Date, publicOnly: Bool) async throws -> StatusSummary {
        let names = propertyNames(publicOnly: publicOnly)
        let states = Dictionary(
            try await storage.allStates().map { ($0.name, $0) },
            uniquingKeysWith: { a, _ in a }
        )
        // Uptime needs no latency: the last day by hour, 90 days by day (7, 30 and 90 days count whole UTC
        // days, today included).
        let today = HistoryBucket.start(of: now, .day)
        let firstDay = today.addingTimeInterval(-89 * 86400)
        let past = try await history.statusHistory(firstDay: firstDay, now: now, spanCap: spanCap)
        let incidents = try await recentIncidents(of: names, now: now)
        // The 90 dates once, for every property.
        let dates = (0..<90).map { Self.day(firstDay.addingTimeInterval(Double($0) * 86400)) }
        let properties = names.map { name in
            let state = states[name]
            let daily = past.days[name] ?? []
            func daysSince(_ count: Int) -> Double? {
                let from = today.addingTimeInterval(-Double(count - 1) * 86400)
                return uptime(of: daily.filter { $0.start >= from })
            }
            var slots = [HistoryBucket?](repeating: nil, count: 90)
            for bucket in daily {
                let offset = Int((bucket.start.timeIntervalSince(firstDay) / 86400).rounded(.down))
                // Only a row starting at its UTC midnight is a day's cell (as a lookup by start would find).
                if slots.indices.contains(offset), bucket.start == firstDay.addingTimeInterval(Double(offset) * 86400),
                    slots[offset] == nil
                {
                    slots[offset] = bucket
                }
            }
            return PropertySummary(
                name: name,
                state: state?.health,
                silencedUntil: state?.silencedUntil.flatMap { $0 > now ? $0 : nil },
                uptime: UptimeFigures(
                    last24h: uptime(of: past.hours[name] ?? []),
                    last7d: daysSince(7),
                    last30d: daysSince(30),
                    last90d: daysSince(90)
                ),
                days: zip(dates, slots).map { date, bucket in
                    DayCell(
                        date: date,
                        worst: bucket?.worst,
                        downtimeMinutes: Int(((bucket?.downtimeSeconds ?? 0) / 60).rounded(.up)),
                        probes: bucket?.probes ?? 0
                    )
                },
                certificateExpiry: state?.lastResult?.certificateExpiry
            )
        }
        let summary = StatusSummary(
            title: config.statusPage.title,
            generatedAt: now,
            properties: properties,
            incidents: incidents
        )
        return try await withLocations(summary, now: now)
    }

    /// The most recent incidents of `names`, with the worst state each reached.
    private func recentIncidents(of names: [String], now: Date) async throws -> [IncidentSummary] {
        try await history.recentIncidents(properties: names, limit: Self.recentIncidentLimit).map {
            Self.summary($0.incident, worst: $0.worst, now: now)
        }
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
        let events = try await storage.incidentEvents(incidentID: id)
        var entries = events.enumerated().map { index, event in TimelineEntries.entry(event, first: index == 0) }
        entries += try await storage.allOutbox().filter { $0.incidentID == id }.map(TimelineEntries.alert)
        entries.sort { $0.at < $1.at }
        let worst = RecentIncident.worst(incident, transitionRank: events.compactMap(Self.transitionRank).max())
        return IncidentTimeline(incident: Self.summary(incident, worst: worst, now: now), entries: entries)
    }

    public func silences(now: Date) async throws -> SilenceList {
        SilenceList(
            silences: try await storage.allStates().compactMap { state in
                guard let until = state.silencedUntil, until > now else { return nil }
                return SilenceList.Silence(property: state.name, until: until)
            }
        )
    }

    /// The state a transition record moved to, ranked (nil: not a transition).
    static func transitionRank(_ event: IncidentEvent) -> Int? {
        guard event.kind == "transition", case .object(let fields) = event.payload,
            case .string(let to)? = fields["to"], let health = Health(rawValue: to)
        else { return nil }
        return RecentIncident.rank(health)
    }

    static func summary(_ incident: Incident, worst: Health, now: Date) -> IncidentSummary {
        IncidentSummary(
            id: incident.id,
            property: incident.property,
            health: incident.health,
            worst: worst,
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
