public import Foundation
import GRDB

/// `LocationStorage` on SQLite: `locations.silent_since` (migration `monitor-v3-location-silence`) records what
/// was announced. SQLite serialises writers, so a change read and claimed in one write is claimed once.
extension MonitorStore: LocationStorage {
    static func registerLocationSilence(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-location-silence") { db in
            try db.execute(sql: "ALTER TABLE locations ADD COLUMN silent_since REAL")
        }
    }

    public func heartbeat(location: String, now: Date) async throws {
        try write { db in try LocationStateRepository.heartbeat(db, location: location, now: now) }
    }

    public func locations() async throws -> [LocationHeartbeat] {
        try read { db in try Self.locations(db) }
    }

    public func announceLocationChanges(
        now: Date,
        window: TimeInterval,
        message: @escaping @Sendable (LocationChange) -> any OutboxMessage
    ) async throws -> [LocationChange] {
        try write { db in
            let changes = LocationChange.due(in: try Self.locations(db), now: now, window: window)
            for change in changes {
                try db.execute(
                    sql: "UPDATE locations SET silent_since = ? WHERE name = ?",
                    arguments: [
                        change.kind == .silent ? change.silentSince.timeIntervalSince1970 : nil, change.location,
                    ]
                )
                _ = try OutboxRepository.insert(db, message(change), kind: "location", incidentID: nil, now: now)
            }
            return changes
        }
    }

    public func locationViews(property: String?) async throws -> [LocationView] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT location, state, updated_at FROM location_state WHERE ? IS NULL OR property = ?
                    ORDER BY property, location
                    """,
                arguments: [property, property]
            ).map { row in
                LocationView(
                    try PropertyStateJSON.decode(row["state"]),
                    location: row["location"],
                    lastReport: Date(timeIntervalSince1970: row["updated_at"])
                )
            }
        }
    }

    private static func locations(_ db: Database) throws -> [LocationHeartbeat] {
        try Row.fetchAll(db, sql: "SELECT name, last_seen, silent_since FROM locations ORDER BY name").map { row in
            LocationHeartbeat(
                name: row["name"],
                lastSeen: Date(timeIntervalSince1970: row["last_seen"]),
                silentSince: (row["silent_since"] as Double?).map(Date.init(timeIntervalSince1970:))
            )
        }
    }
}
