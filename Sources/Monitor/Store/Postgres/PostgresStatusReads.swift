public import Foundation
import Logging
import PostgresNIO
import Probing

/// The status page's reads on the PostgreSQL store (`HistoryStorage.statusHistory`, `recentIncidents`), as in
/// the SQLite store (`StatusReads.swift`): each one transaction, every property at once.
extension PostgresStore {
    public func statusHistory(firstDay: Date, now: Date, spanCap: TimeInterval) async throws -> StatusHistory {
        // One snapshot for the stored rows and the raw samples (see `buckets`).
        try await write { connection, logger in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let firstDay = HistoryBucket.start(of: firstDay, .day)
            let firstHour = StatusHistory.firstHour(now: now)
            let days = try await PostgresHistory.buckets(
                connection,
                .day,
                property: nil,
                from: firstDay,
                to: now,
                latency: false,
                logger: logger
            )
            let hours = try await PostgresHistory.buckets(
                connection,
                .hour,
                property: nil,
                from: firstHour,
                to: now,
                latency: false,
                logger: logger
            )
            let liveFrom = StatusHistory.liveFrom(
                rolledUntil: try await PostgresHistory.rolledUntil(connection, logger: logger),
                firstDay: firstDay,
                firstHour: firstHour
            )
            var live: [HistoryBucket] = []
            if liveFrom < now {
                let samples = try await PostgresHistory.samples(
                    connection,
                    property: nil,
                    from: liveFrom.addingTimeInterval(-spanCap),
                    to: now,
                    logger: logger
                )
                live = RollUp.hours(samples, from: liveFrom, to: now, spanCap: spanCap)
            }
            return StatusHistory.assemble(storedDays: days, storedHours: hours, live: live, firstHour: firstHour)
        }
    }

    public func recentIncidents(properties: [String], limit: Int) async throws -> [RecentIncident] {
        guard !properties.isEmpty, limit > 0 else { return [] }
        return try await read { connection, logger in
            // The worst transition of each of the `limit` rows only (the inner query picks them first).
            let rows = try await connection.query(
                """
                SELECT i.id, i.property, i.opened_at, i.closed_at, i.health, i.paged_at,
                    (SELECT max(CASE e.payload::jsonb ->> 'to' WHEN 'down' THEN 2 WHEN 'degraded' THEN 1 ELSE 0 END)
                     FROM incident_events e WHERE e.incident_id = i.id AND e.kind = 'transition')
                FROM (SELECT * FROM incidents WHERE property = ANY(\(properties))
                      ORDER BY opened_at DESC, id LIMIT \(limit)) i
                ORDER BY i.opened_at DESC, i.id
                """,
                logger: logger
            )
            var incidents: [RecentIncident] = []
            for try await (id, property, opened, closed, health, paged, rank) in rows.decode(
                (Int64, String, Double, Double?, String, Double?, Int32?).self
            ) {
                let incident = Incident(
                    id: IncidentID(id),
                    property: property,
                    openedAt: Date(timeIntervalSince1970: opened),
                    closedAt: closed.map(Date.init(timeIntervalSince1970:)),
                    health: Health(rawValue: health) ?? .down,
                    pagedAt: paged.map(Date.init(timeIntervalSince1970:))
                )
                incidents.append(
                    RecentIncident(
                        incident: incident,
                        worst: RecentIncident.worst(incident, transitionRank: rank.map(Int.init))
                    )
                )
            }
            return incidents
        }
    }
}
