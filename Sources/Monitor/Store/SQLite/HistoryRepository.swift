import Foundation
import GRDB
import Probing

/// The history tables: `probe_samples` (raw, one row per probe), `history_hourly` and `history_daily` (one row
/// per property and period; latency histograms in their sparse binary form, one column per phase) and
/// `history_rollup` (one row: every raw sample before `rolled_until` is in the hourly rows).
enum HistoryRepository {
    static func registerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-history") { db in
            var sql = """
                CREATE TABLE probe_samples (
                    property TEXT NOT NULL,
                    at REAL NOT NULL,
                    health TEXT NOT NULL,
                    status INTEGER,
                    dns_ms REAL, connect_ms REAL, tls_ms REAL, first_byte_ms REAL, total_ms REAL,
                    error TEXT
                );
                CREATE INDEX probe_samples_at ON probe_samples(at, property);
                CREATE TABLE history_rollup (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    rolled_until REAL NOT NULL
                );
                CREATE INDEX outbox_delivered ON outbox(delivered_at) WHERE delivered_at IS NOT NULL;
                """
            for table in ["history_hourly", "history_daily"] {
                sql += """
                    CREATE TABLE \(table) (
                        property TEXT NOT NULL,
                        start REAL NOT NULL,
                        healthy INTEGER NOT NULL,
                        degraded INTEGER NOT NULL,
                        down INTEGER NOT NULL,
                        observed REAL NOT NULL,
                        downtime REAL NOT NULL,
                        \(LatencyPhase.allCases.map { "lat_\($0.rawValue) BLOB NOT NULL" }.joined(separator: ", ")),
                        PRIMARY KEY (start, property)
                    ) WITHOUT ROWID;
                    """
            }
            try db.execute(sql: sql)
        }
    }

    /// `monitor-v3-history-location`: the location of each raw sample (empty for samples kept before).
    static func registerLocationMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("monitor-v3-history-location") { db in
            try db.execute(sql: "ALTER TABLE probe_samples ADD COLUMN location TEXT NOT NULL DEFAULT ''")
        }
    }

    static func table(_ length: HistoryBucket.Length) -> String {
        length == .hour ? "history_hourly" : "history_daily"
    }

    // MARK: Raw samples

    /// One per probe: the statement is prepared once per connection.
    static func insert(_ db: Database, _ s: HistorySample) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO probe_samples
                    (property, at, health, status, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, error, location)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                s.property, s.at.timeIntervalSince1970, s.health.rawValue, s.status, s.timings?.dnsMs,
                s.timings?.connectMs, s.timings?.tlsMs, s.timings?.firstByteMs, s.timings?.totalMs, s.error,
                s.location,
            ]
        )
    }

    static func samples(_ db: Database, property: String?, from: Date, to: Date) throws -> [HistorySample] {
        // Explicit columns read by index, as in `buckets` (a name lookup per field costs more than the read).
        var sql = """
            SELECT property, at, health, status, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, error, location
            FROM probe_samples WHERE at >= ? AND at < ?
            """
        var arguments: StatementArguments = [from.timeIntervalSince1970, to.timeIntervalSince1970]
        if let property {
            sql += " AND property = ?"
            arguments += [property]
        }
        sql += " ORDER BY at, rowid"
        var samples: [HistorySample] = []
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            var timings: PhaseTimings?
            if let total: Double = row[8] {
                timings = PhaseTimings(
                    dnsMs: row[4] ?? 0,
                    connectMs: row[5] ?? 0,
                    tlsMs: row[6] ?? 0,
                    firstByteMs: row[7] ?? 0,
                    totalMs: total
                )
            }
            samples.append(
                HistorySample(
                    property: row[0],
                    at: Date(timeIntervalSince1970: row[1]),
                    health: Health(rawValue: row[2]) ?? .down,
                    status: row[3],
                    timings: timings,
                    error: row[9],
                    location: row[10]
                )
            )
        }
        return samples
    }

    // MARK: Roll-ups

    static func rolledUntil(_ db: Database) throws -> Date? {
        try Double.fetchOne(db, sql: "SELECT rolled_until FROM history_rollup WHERE id = 1")
            .map(Date.init(timeIntervalSince1970:))
    }

    static func setRolledUntil(_ db: Database, _ date: Date) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO history_rollup (id, rolled_until) VALUES (1, ?)",
            arguments: [date.timeIntervalSince1970]
        )
    }

    static func earliestSample(_ db: Database) throws -> Date? {
        try Double.fetchOne(db, sql: "SELECT MIN(at) FROM probe_samples").map(Date.init(timeIntervalSince1970:))
    }

    static func save(_ db: Database, _ b: HistoryBucket) throws {
        let phases = LatencyPhase.allCases
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO \(table(b.length))
                    (property, start, healthy, degraded, down, observed, downtime,
                     \(phases.map { "lat_\($0.rawValue)" }.joined(separator: ", ")))
                VALUES (?, ?, ?, ?, ?, ?, ?, \(phases.map { _ in "?" }.joined(separator: ", ")))
                """
        )
        try statement.execute(
            arguments: StatementArguments(
                [
                    b.property, b.start.timeIntervalSince1970, b.healthy, b.degraded, b.down, b.observedSeconds,
                    b.downtimeSeconds,
                ] as [any DatabaseValueConvertible] + phases.map { Data(b.latency[$0]?.encoded ?? []) }
            )
        )
    }

    static func buckets(
        _ db: Database,
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        latency: Bool = true
    ) throws -> [HistoryBucket] {
        // Explicit columns read by index: a name lookup per field costs more than the rest of the read.
        let phases = LatencyPhase.allCases
        let columns =
            "property, start, healthy, degraded, down, observed, downtime"
            + (latency ? ", " + phases.map { "lat_\($0.rawValue)" }.joined(separator: ", ") : "")
        var sql = "SELECT \(columns) FROM \(table(length)) WHERE start >= ? AND start < ?"
        var arguments: StatementArguments = [from.timeIntervalSince1970, to.timeIntervalSince1970]
        if let property {
            sql += " AND property = ?"
            arguments += [property]
        }
        sql += " ORDER BY property, start"
        var buckets: [HistoryBucket] = []
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            var histograms: [LatencyPhase: LatencyHistogram] = [:]
            if latency {
                for (offset, phase) in phases.enumerated() {
                    let bytes: Data = row[7 + offset] ?? Data()
                    if !bytes.isEmpty { histograms[phase] = LatencyHistogram(encoded: Array(bytes)) }
                }
            }
            buckets.append(
                HistoryBucket(
                    property: row[0],
                    start: Date(timeIntervalSince1970: row[1]),
                    length: length,
                    healthy: row[2],
                    degraded: row[3],
                    down: row[4],
                    observedSeconds: row[5],
                    downtimeSeconds: row[6],
                    latency: histograms
                )
            )
        }
        return buckets
    }

    // MARK: Pruning and counts

    static func delete(_ db: Database, from table: String, column: String, before: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM \(table) WHERE \(column) < ?", arguments: [before.timeIntervalSince1970])
        return db.changesCount
    }

    static func count(_ db: Database, _ table: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
    }
}
