public import Foundation
import Logging
import PostgresNIO
import Probing

/// The history tables in PostgreSQL, as in the SQLite store (`HistoryRepository`): `probe_samples` (raw, one
/// row per probe), `history_hourly` and `history_daily` (one row per property and period; latency histograms
/// in their sparse binary form, one `bytea` per phase) and `history_rollup` (one row: every raw sample before
/// `rolled_until` is in the hourly rows). The roll-up itself is the shared Swift one (`RollUp`), so the figures
/// are the SQLite store's; a roll-up locks `history_rollup` (readers go on), so two monitors never roll the
/// same hour twice.
enum PostgresHistory {
    static let schema: [PostgresQuery] = {
        let latency = LatencyPhase.allCases.map { "lat_\($0.rawValue) bytea NOT NULL" }.joined(separator: ", ")
        let rollUps: [PostgresQuery] = ["history_hourly", "history_daily"].map { table in
            """
            CREATE TABLE \(unescaped: table) (
                property text NOT NULL,
                start double precision NOT NULL,
                healthy bigint NOT NULL,
                degraded bigint NOT NULL,
                down bigint NOT NULL,
                observed double precision NOT NULL,
                downtime double precision NOT NULL,
                \(unescaped: latency),
                PRIMARY KEY (start, property)
            )
            """
        }
        return [
            """
            CREATE TABLE probe_samples (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                property text NOT NULL,
                at double precision NOT NULL,
                health text NOT NULL,
                status bigint,
                dns_ms double precision, connect_ms double precision, tls_ms double precision,
                first_byte_ms double precision, total_ms double precision,
                error text
            )
            """,
            "CREATE INDEX probe_samples_at ON probe_samples (at, property)",
            """
            CREATE TABLE history_rollup (
                id integer PRIMARY KEY CHECK (id = 1),
                rolled_until double precision NOT NULL
            )
            """,
            "CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL",
        ] + rollUps
    }()

    static func table(_ length: HistoryBucket.Length) -> String {
        length == .hour ? "history_hourly" : "history_daily"
    }

    // MARK: Raw samples

    static func insert(_ connection: PostgresConnection, _ s: HistorySample, logger: Logger) async throws {
        let t = s.timings
        try await connection.query(
            """
            INSERT INTO probe_samples
                (property, at, health, status, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, error, location)
            VALUES (\(s.property), \(s.at.timeIntervalSince1970), \(s.health.rawValue), \(s.status), \(t?.dnsMs),
                \(t?.connectMs), \(t?.tlsMs), \(t?.firstByteMs), \(t?.totalMs), \(s.error), \(s.location))
            """,
            logger: logger
        )
    }

    static func samples(
        _ connection: PostgresConnection,
        property: String?,
        from: Date,
        to: Date,
        logger: Logger
    ) async throws -> [HistorySample] {
        let rows = try await connection.query(
            """
            SELECT property, at, health, status, dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, error, location
            FROM probe_samples
            WHERE at >= \(from.timeIntervalSince1970) AND at < \(to.timeIntervalSince1970)
                AND (\(property)::text IS NULL OR property = \(property))
            ORDER BY at, id
            """,
            logger: logger
        )
        var samples: [HistorySample] = []
        for try await (name, at, health, status, dns, connect, tls, firstByte, total, error, location) in rows.decode(
            (String, Double, String, Int?, Double?, Double?, Double?, Double?, Double?, String?, String).self
        ) {
            samples.append(
                HistorySample(
                    property: name,
                    at: Date(timeIntervalSince1970: at),
                    health: Health(rawValue: health) ?? .down,
                    status: status,
                    timings: total.map {
                        PhaseTimings(
                            dnsMs: dns ?? 0,
                            connectMs: connect ?? 0,
                            tlsMs: tls ?? 0,
                            firstByteMs: firstByte ?? 0,
                            totalMs: $0
                        )
                    },
                    error: error,
                    location: location
                )
            )
        }
        return samples
    }

    // MARK: Roll-ups

    /// Holds the roll-up lock until the transaction ends: roll-ups take turns, reads go on.
    static func lockRollUp(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("LOCK TABLE history_rollup IN SHARE ROW EXCLUSIVE MODE", logger: logger)
    }

    static func rolledUntil(_ connection: PostgresConnection, logger: Logger) async throws -> Date? {
        try await date(connection.query("SELECT rolled_until FROM history_rollup WHERE id = 1", logger: logger))
    }

    static func setRolledUntil(_ connection: PostgresConnection, _ date: Date, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO history_rollup (id, rolled_until) VALUES (1, \(date.timeIntervalSince1970))
            ON CONFLICT (id) DO UPDATE SET rolled_until = excluded.rolled_until
            """,
            logger: logger
        )
    }

    static func earliestSample(_ connection: PostgresConnection, logger: Logger) async throws -> Date? {
        try await date(connection.query("SELECT min(at) FROM probe_samples", logger: logger))
    }

    static func save(_ connection: PostgresConnection, _ b: HistoryBucket, logger: Logger) async throws {
        let phases = LatencyPhase.allCases
        var bindings = PostgresBindings()
        bindings.append(b.property)
        bindings.append(b.start.timeIntervalSince1970)
        bindings.append(b.healthy)
        bindings.append(b.degraded)
        bindings.append(b.down)
        bindings.append(b.observedSeconds)
        bindings.append(b.downtimeSeconds)
        for phase in phases { try bindings.append(Data(b.latency[phase]?.encoded ?? [])) }
        let columns = phases.map { "lat_\($0.rawValue)" }
        let sql = """
            INSERT INTO \(table(b.length))
                (property, start, healthy, degraded, down, observed, downtime, \(columns.joined(separator: ", ")))
            VALUES (\((1...7 + phases.count).map { "$\($0)" }.joined(separator: ", ")))
            ON CONFLICT (start, property) DO UPDATE SET healthy = excluded.healthy, degraded = excluded.degraded,
                down = excluded.down, observed = excluded.observed, downtime = excluded.downtime,
                \(columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
            """
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }

    static func buckets(
        _ connection: PostgresConnection,
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        latency: Bool = true,
        logger: Logger
    ) async throws -> [HistoryBucket] {
        // Without `latency` the histograms are not read at all.
        let phases = latency ? LatencyPhase.allCases : []
        let rows = try await connection.query(
            """
            SELECT property, start, healthy, degraded, down, observed, downtime
                \(unescaped: phases.map { ", lat_\($0.rawValue)" }.joined())
            FROM \(unescaped: table(length))
            WHERE start >= \(from.timeIntervalSince1970) AND start < \(to.timeIntervalSince1970)
                AND (\(property)::text IS NULL OR property = \(property))
            ORDER BY property, start
            """,
            logger: logger
        )
        var buckets: [HistoryBucket] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            var latency: [LatencyPhase: LatencyHistogram] = [:]
            for (offset, phase) in phases.enumerated() {
                let bytes = try cells[7 + offset].decode(Data.self)
                if !bytes.isEmpty { latency[phase] = LatencyHistogram(encoded: Array(bytes)) }
            }
            buckets.append(
                HistoryBucket(
                    property: try cells[0].decode(String.self),
                    start: Date(timeIntervalSince1970: try cells[1].decode(Double.self)),
                    length: length,
                    healthy: try cells[2].decode(Int.self),
                    degraded: try cells[3].decode(Int.self),
                    down: try cells[4].decode(Int.self),
                    observedSeconds: try cells[5].decode(Double.self),
                    downtimeSeconds: try cells[6].decode(Double.self),
                    latency: latency
                )
            )
        }
        return buckets
    }

    // MARK: Pruning and counts

    static func delete(
        _ connection: PostgresConnection,
        from table: String,
        column: String,
        before: Date,
        logger: Logger
    ) async throws -> Int {
        try await count(
            connection.query(
                """
                WITH deleted AS (
                    DELETE FROM \(unescaped: table) WHERE \(unescaped: column) < \(before.timeIntervalSince1970)
                    RETURNING 1
                )
                SELECT count(*) FROM deleted
                """,
                logger: logger
            )
        )
    }

    static func count(_ connection: PostgresConnection, _ table: String, logger: Logger) async throws -> Int {
        try await count(connection.query("SELECT count(*) FROM \(unescaped: table)", logger: logger))
    }

    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await n in rows.decode(Int64.self) { count = Int(n) }
        return count
    }

    private static func date(_ rows: PostgresRowSequence) async throws -> Date? {
        var date: Date?
        for try await at in rows.decode(Double?.self) { date = at.map(Date.init(timeIntervalSince1970:)) }
        return date
    }
}

/// `HistoryStorage` on the PostgreSQL store: each method one transaction over `PostgresHistory`, composed as
/// in the SQLite store.
extension PostgresStore: HistoryStorage {
    public func appendSample(_ sample: HistorySample) async throws {
        try await write { connection, logger in try await PostgresHistory.insert(connection, sample, logger: logger) }
    }

    public func samples(property: String?, from: Date, to: Date) async throws -> [HistorySample] {
        try await read { connection, logger in
            try await PostgresHistory.samples(connection, property: property, from: from, to: to, logger: logger)
        }
    }

    public func rollUp(now: Date, spanCap: TimeInterval) async throws -> RollUpReport {
        try await write { connection, logger in
            try await PostgresHistory.lockRollUp(connection, logger: logger)
            let target = HistoryBucket.start(of: now, .hour)
            var start = try await PostgresHistory.rolledUntil(connection, logger: logger)
            if start == nil {
                start = try await PostgresHistory.earliestSample(connection, logger: logger).map {
                    HistoryBucket.start(of: $0, .hour)
                }
            }
            guard let from = start else { return RollUpReport(hours: 0, days: 0, rolledUntil: nil) }
            guard from < target else { return RollUpReport(hours: 0, days: 0, rolledUntil: from) }
            let samples = try await PostgresHistory.samples(
                connection,
                property: nil,
                from: from.addingTimeInterval(-spanCap),
                to: target.addingTimeInterval(spanCap),
                logger: logger
            )
            let hours = RollUp.hours(samples, from: from, to: target, spanCap: spanCap)
            for hour in hours { try await PostgresHistory.save(connection, hour, logger: logger) }
            // Each day touched, from all of its hours (those rolled before included).
            var days: [HistoryBucket] = []
            for day in Set(hours.map { HistoryBucket.start(of: $0.start, .day) }) {
                let all = try await PostgresHistory.buckets(
                    connection,
                    .hour,
                    property: nil,
                    from: day,
                    to: day.addingTimeInterval(HistoryBucket.Length.day.rawValue),
                    logger: logger
                )
                days += RollUp.days(from: all)
            }
            for day in days { try await PostgresHistory.save(connection, day, logger: logger) }
            try await PostgresHistory.setRolledUntil(connection, target, logger: logger)
            return RollUpReport(hours: hours.count, days: days.count, rolledUntil: target)
        }
    }

    public func buckets(
        _ length: HistoryBucket.Length,
        property: String?,
        from: Date,
        to: Date,
        now: Date,
        spanCap: TimeInterval,
        latency: Bool
    ) async throws -> [HistoryBucket] {
        // One snapshot for the stored rows and the raw samples (a roll-up committing between them would count
        // an hour twice or not at all).
        try await write { connection, logger in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let alignedFrom = HistoryBucket.start(of: from, length)
            let rolled = try await PostgresHistory.rolledUntil(connection, logger: logger)
            let stored = try await PostgresHistory.buckets(
                connection,
                length,
                property: property,
                from: alignedFrom,
                to: to,
                latency: latency,
                logger: logger
            )
            // Not rolled up yet: from the raw samples, as hours, merged into what is stored.
            let liveFrom = max(rolled ?? alignedFrom, alignedFrom)
            let liveTo = min(now, to)
            guard liveFrom < liveTo else { return stored }
            let samples = try await PostgresHistory.samples(
                connection,
                property: property,
                from: liveFrom.addingTimeInterval(-spanCap),
                to: liveTo,
                logger: logger
            )
            var live = RollUp.hours(samples, from: liveFrom, to: liveTo, spanCap: spanCap)
            if length == .day { live = RollUp.days(from: live) }
            if !latency { live = live.map { HistoryBucket(withoutLatency: $0) } }
            return RollUp.merging(live, into: stored)
        }
    }

    public func importBuckets(_ buckets: [HistoryBucket]) async throws {
        try await write { connection, logger in
            for bucket in buckets { try await PostgresHistory.save(connection, bucket, logger: logger) }
        }
    }

    public func prune(_ cutoffs: RetentionCutoffs) async throws -> PruneReport {
        try await write { connection, logger in
            // Raw samples not rolled up yet stay, whatever their age.
            let rolled = try await PostgresHistory.rolledUntil(connection, logger: logger) ?? .distantPast
            let deletions: [(String, String, Date)] = [
                ("probe_samples", "at", min(cutoffs.rawBefore, rolled)),
                ("history_hourly", "start", cutoffs.hourlyBefore),
                ("history_daily", "start", cutoffs.dailyBefore),
                ("outbox", "delivered_at", cutoffs.deliveredOutboxBefore),
            ]
            var deleted: [Int] = []
            for (table, column, before) in deletions {
                deleted.append(
                    try await PostgresHistory.delete(
                        connection,
                        from: table,
                        column: column,
                        before: before,
                        logger: logger
                    )
                )
            }
            return PruneReport(samples: deleted[0], hours: deleted[1], days: deleted[2], outbox: deleted[3])
        }
    }

    public func historyCounts() async throws -> HistoryCounts {
        try await read { connection, logger in
            var counts: [Int] = []
            for table in ["probe_samples", "history_hourly", "history_daily", "outbox"] {
                counts.append(try await PostgresHistory.count(connection, table, logger: logger))
            }
            return HistoryCounts(samples: counts[0], hours: counts[1], days: counts[2], outbox: counts[3])
        }
    }
}
