public import Foundation
import GRDB
import Probing

/// The status page's reads on the SQLite store (`HistoryStorage.statusHistory`, `recentIncidents`): each one
/// read transaction, every property at once.
extension MonitorStore {
    public func statusHistory(firstDay: Date, now: Date, spanCap: TimeInterval) async throws -> StatusHistory {
        try read { db in
            let firstDay = HistoryBucket.start(of: firstDay, .day)
            let firstHour = StatusHistory.firstHour(now: now)
            let days = try HistoryRepository.buckets(db, .day, property: nil, from: firstDay, to: now, latency: false)
            let hours = try HistoryRepository.buckets(
                db,
                .hour,
                property: nil,
                from: firstHour,
                to: now,
                latency: false
            )
            let liveFrom = StatusHistory.liveFrom(
                rolledUntil: try HistoryRepository.rolledUntil(db),
                firstDay: firstDay,
                firstHour: firstHour
            )
            var live: [HistoryBucket] = []
            if liveFrom < now {
                let samples = try HistoryRepository.samples(
                    db,
                    property: nil,
                    from: liveFrom.addingTimeInterval(-spanCap),
                    to: now
                )
                live = RollUp.hours(samples, from: liveFrom, to: now, spanCap: spanCap)
            }
            return StatusHistory.assemble(storedDays: days, storedHours: hours, live: live, firstHour: firstHour)
        }
    }

    public func recentIncidents(properties: [String], limit: Int) async throws -> [RecentIncident] {
        guard !properties.isEmpty, limit > 0 else { return [] }
        return try read { db in
            let marks = Array(repeating: "?", count: properties.count).joined(separator: ", ")
            // The worst transition of each of the `limit` rows only (the inner query picks them first).
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT i.id, i.property, i.opened_at, i.closed_at, i.health, i.paged_at,
                        (SELECT MAX(CASE json_extract(e.payload, '$.to')
                                    WHEN 'down' THEN 2 WHEN 'degraded' THEN 1 ELSE 0 END)
                         FROM incident_events e WHERE e.incident_id = i.id AND e.kind = 'transition')
                    FROM (SELECT * FROM incidents WHERE property IN (\(marks))
                          ORDER BY opened_at DESC, id LIMIT ?) i
                    ORDER BY i.opened_at DESC, i.id
                    """,
                arguments: StatementArguments(properties + [limit] as [any DatabaseValueConvertible])
            )
            var incidents: [RecentIncident] = []
            while let row = try rows.next() {
                let closed: Double? = row[3]
                let paged: Double? = row[5]
                let incident = Incident(
                    id: IncidentID(row[0]),
                    property: row[1],
                    openedAt: Date(timeIntervalSince1970: row[2]),
                    closedAt: closed.map(Date.init(timeIntervalSince1970:)),
                    health: Health(rawValue: row[4]) ?? .down,
                    pagedAt: paged.map(Date.init(timeIntervalSince1970:))
                )
                incidents.append(
                    RecentIncident(incident: incident, worst: RecentIncident.worst(incident, transitionRank: row[6]))
                )
            }
            return incidents
        }
    }
}
