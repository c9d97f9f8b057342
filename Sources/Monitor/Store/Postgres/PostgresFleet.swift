public import Foundation
import Logging
import PostgresNIO

/// `LocationStorage` on PostgreSQL: `locations.silent_since` records what was announced. The announcement
/// locks every location's row (`FOR UPDATE`, in name order) before it reads them, so instances noticing a silent
/// location at once take turns and the second sees the first's claim.
enum PostgresFleet {
    static let schema: [PostgresQuery] = [
        "ALTER TABLE locations ADD COLUMN silent_since double precision"
    ]

    static func locations(_ connection: PostgresConnection, lock: Bool, logger: Logger) async throws
        -> [LocationHeartbeat]
    {
        let rows = try await connection.query(
            lock
                ? "SELECT name, last_seen, silent_since FROM locations ORDER BY name FOR UPDATE"
                : "SELECT name, last_seen, silent_since FROM locations ORDER BY name",
            logger: logger
        )
        var locations: [LocationHeartbeat] = []
        for try await (name, lastSeen, silentSince) in rows.decode((String, Double, Double?).self) {
            locations.append(
                LocationHeartbeat(
                    name: name,
                    lastSeen: Date(timeIntervalSince1970: lastSeen),
                    silentSince: silentSince.map(Date.init(timeIntervalSince1970:))
                )
            )
        }
        return locations
    }
}

extension PostgresStore: LocationStorage {
    public func heartbeat(location: String, now: Date) async throws {
        try await write { connection, logger in
            try await PostgresLocations.heartbeat(connection, location: location, now: now, logger: logger)
        }
    }

    public func locations() async throws -> [LocationHeartbeat] {
        try await read { connection, logger in
            try await PostgresFleet.locations(connection, lock: false, logger: logger)
        }
    }

    public func locationViews(property: String?) async throws -> [LocationView] {
        try await read { connection, logger in
            let rows = try await connection.query(
                """
                SELECT location, state, updated_at FROM location_state
                WHERE \(property)::text IS NULL OR property = \(property) ORDER BY property, location
                """,
                logger: logger
            )
            var views: [LocationView] = []
            for try await (location, state, updatedAt) in rows.decode((String, String, Double).self) {
                views.append(
                    LocationView(
                        try PropertyStateJSON.decode(state),
                        location: location,
                        lastReport: Date(timeIntervalSince1970: updatedAt)
                    )
                )
            }
            return views
        }
    }

    public func announceLocationChanges(
        now: Date,
        window: TimeInterval,
        message: @escaping @Sendable (LocationChange) -> any OutboxMessage
    ) async throws -> [LocationChange] {
        try await write { connection, logger in
            let locations = try await PostgresFleet.locations(connection, lock: true, logger: logger)
            let changes = LocationChange.due(in: locations, now: now, window: window)
            for change in changes {
                let since = change.kind == .silent ? change.silentSince.timeIntervalSince1970 : nil
                try await connection.query(
                    "UPDATE locations SET silent_since = \(since) WHERE name = \(change.location)",
                    logger: logger
                )
                _ = try await PostgresOutbox.insert(
                    connection,
                    message(change),
                    kind: "location",
                    incidentID: nil,
                    now: now,
                    logger: logger
                )
            }
            return changes
        }
    }
}
