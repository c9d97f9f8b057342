import ActionKit
import Foundation
import GRDB

/// The durable state store: a SQLite file through GRDB (`DatabasePool`, WAL, `synchronous=FULL` on every
/// connection so an acknowledged commit survives power loss, not just a process crash).
///
/// Tables:
/// - `property_state`: debounce state per property (JSON of `PropertyState`);
/// - `incidents`: id, property, opened/closed, health, `paged_at`;
/// - `incident_events`: remediation records and transitions appended to an incident (issue 5 writes here);
/// - `outbox`: alert messages waiting for delivery (id, created, payload JSON, attempts, next attempt,
///   delivered/failed).
///
/// Exactly-once alerting across `kill -9`: a state transition, its incident change and its outbox row are
/// written in ONE transaction (`record`). Either all of it is on disk or none of it; after a restart the
/// probe is simply repeated and, since the new state is already stored, no second transition is produced.
/// Delivery is at-least-once in theory: the row is marked delivered right after Discord's 2xx, so only a crash
/// in that window (microseconds) re-sends a message.
///
/// Writes are synchronous on purpose (the `async` signatures only let callers suspend): a cancelled task, e.g.
/// during shutdown, still completes a record it has started instead of dropping it.
public final class MonitorStore: Sendable {
    public let pool: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("monitor-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE property_state (
                        name TEXT PRIMARY KEY NOT NULL,
                        state TEXT NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE TABLE incidents (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        property TEXT NOT NULL,
                        opened_at REAL NOT NULL,
                        closed_at REAL,
                        health TEXT NOT NULL,
                        paged_at REAL
                    );
                    CREATE INDEX incidents_open ON incidents(property) WHERE closed_at IS NULL;
                    CREATE TABLE incident_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        incident_id INTEGER NOT NULL REFERENCES incidents(id),
                        at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        payload TEXT NOT NULL
                    );
                    CREATE INDEX incident_events_incident ON incident_events(incident_id);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        created_at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        incident_id INTEGER,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        delivered_at REAL,
                        failed_at REAL,
                        last_error TEXT
                    );
                    CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
                    """
            )
        }
        try migrator.migrate(pool)
    }

    // MARK: Property state

    public func state(of name: String) throws -> PropertyState? {
        try pool.read { db in try Self.loadState(db, name) }
    }

    public func allStates() throws -> [PropertyState] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT state FROM property_state ORDER BY name").map(Self.decodeState)
        }
    }

    /// What `record` did.
    public struct Recorded: Sendable {
        public var state: PropertyState
        public var transition: Transition?
        public var confirmAt: Date?
        /// The incident opened, changed or closed by the transition (or still open).
        public var incident: Incident?
        /// The outbox row written for the transition (nil when none, or silenced).
        public var outboxID: Int64?
        public var silenced: Bool
    }

    /// Applies one probe result to the property's state and, in the same transaction, opens/updates/closes the
    /// incident and writes the alert built by `message` to the outbox (unless silenced).
    public func record(
        _ result: ProbeResult,
        policy: Debounce.Policy,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> DiscordMessage
    ) async throws -> Recorded {
        try writeNow { db in
            let previous = try Self.loadState(db, result.property) ?? PropertyState(name: result.property)
            let step = Debounce.apply(result, to: previous, policy: policy, now: now)
            var state = step.state
            var incident: Incident? = try state.openIncidentID.flatMap { try Self.loadIncident(db, $0) }
            if let transition = step.transition {
                switch transition.kind {
                case .opened:
                    try db.execute(
                        sql: "INSERT INTO incidents (property, opened_at, health) VALUES (?, ?, ?)",
                        arguments: [result.property, now.timeIntervalSince1970, transition.to.rawValue]
                    )
                    let id = db.lastInsertedRowID
                    state.openIncidentID = id
                    incident = try Self.loadIncident(db, id)
                case .escalated, .deescalated:
                    if let id = state.openIncidentID {
                        try db.execute(
                            sql: "UPDATE incidents SET health = ? WHERE id = ?",
                            arguments: [transition.to.rawValue, id]
                        )
                        incident = try Self.loadIncident(db, id)
                    }
                case .recovered:
                    if let id = state.openIncidentID {
                        try db.execute(
                            sql: "UPDATE incidents SET closed_at = ?, health = 'healthy' WHERE id = ?",
                            arguments: [now.timeIntervalSince1970, id]
                        )
                        incident = try Self.loadIncident(db, id)
                    }
                    state.openIncidentID = nil
                }
                if let id = incident?.id {
                    try Self.appendEvent(
                        db,
                        incidentID: id,
                        at: now,
                        kind: "transition",
                        payload: .object([
                            "from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue),
                            "reasons": .array(result.reasons.map { .string($0) }),
                        ])
                    )
                }
            }
            let silenced = state.isSilenced(at: now)
            var outboxID: Int64?
            if let transition = step.transition, !silenced {
                let event = AlertEvent(
                    transition: transition,
                    result: result,
                    incident: incident,
                    at: now,
                    note: nil
                )
                outboxID = try Self.insertOutbox(
                    db,
                    message(event),
                    kind: "transition",
                    incidentID: incident?.id,
                    now: now
                )
                state.announced = transition.to
            }
            try Self.saveState(db, state, now: now)
            return Recorded(
                state: state,
                transition: step.transition,
                confirmAt: step.confirmAt,
                incident: incident,
                outboxID: outboxID,
                silenced: silenced
            )
        }
    }

    /// Silences a property until `until` (maintenance).
    public func silence(_ name: String, until: Date, now: Date) async throws {
        try writeNow { db in
            var state = try Self.loadState(db, name) ?? PropertyState(name: name)
            state.silencedUntil = until
            try Self.saveState(db, state, now: now)
        }
    }

    /// Ends a silence (explicitly, or because it expired) and, when the state changed while silenced, writes
    /// an announcement of the current state in the same transaction. Returns the announcement, if any.
    @discardableResult
    public func endSilence(
        _ name: String,
        now: Date,
        force: Bool,
        message: @escaping @Sendable (AlertEvent) -> DiscordMessage
    ) async throws -> Recorded? {
        try writeNow { db in
            guard var state = try Self.loadState(db, name), let until = state.silencedUntil else { return nil }
            guard force || until <= now else { return nil }
            state.silencedUntil = nil
            var outboxID: Int64?
            var transition: Transition?
            let incident =
                try state.openIncidentID.flatMap { try Self.loadIncident(db, $0) }
                ?? Self.lastIncident(db, name)
            if state.announced != state.health, let result = state.lastResult {
                let t = Transition(from: state.announced, to: state.health)
                transition = t
                let event = AlertEvent(
                    transition: t,
                    result: result,
                    incident: incident,
                    at: now,
                    note: "state changed during maintenance"
                )
                outboxID = try Self.insertOutbox(
                    db,
                    message(event),
                    kind: "transition",
                    incidentID: incident?.id,
                    now: now
                )
                state.announced = state.health
            }
            try Self.saveState(db, state, now: now)
            return Recorded(
                state: state,
                transition: transition,
                confirmAt: nil,
                incident: incident,
                outboxID: outboxID,
                silenced: false
            )
        }
    }

    // MARK: Incidents

    public struct Incident: Sendable, Hashable, Codable {
        public var id: Int64
        public var property: String
        public var openedAt: Date
        public var closedAt: Date?
        public var health: Health
        public var pagedAt: Date?

        public var duration: TimeInterval? { closedAt.map { $0.timeIntervalSince(openedAt) } }

        enum CodingKeys: String, CodingKey {
            case id, property
            case openedAt = "opened_at"
            case closedAt = "closed_at"
            case health
            case pagedAt = "paged_at"
        }
    }

    public struct IncidentEvent: Sendable, Hashable, Codable {
        public var id: Int64
        public var incidentID: Int64
        public var at: Date
        public var kind: String
        public var payload: JSONValue
    }

    public func incident(id: Int64) throws -> Incident? {
        try pool.read { db in try Self.loadIncident(db, id) }
    }

    public func openIncident(for property: String) throws -> Incident? {
        try pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM incidents WHERE property = ? AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
                arguments: [property]
            ).map(Self.incident(from:))
        }
    }

    public func openIncidentCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM incidents WHERE closed_at IS NULL") ?? 0 }
    }

    public func incidents(for property: String? = nil) throws -> [Incident] {
        try pool.read { db in
            if let property {
                return try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM incidents WHERE property = ? ORDER BY id",
                    arguments: [property]
                ).map(Self.incident(from:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM incidents ORDER BY id").map(Self.incident(from:))
        }
    }

    /// Appends a record (e.g. a remediation step) to an incident. Issue 5 records every decision here.
    @discardableResult
    public func appendIncidentEvent(incidentID: Int64, kind: String, payload: JSONValue, at: Date = Date()) async throws
        -> Int64
    {
        try writeNow { db in
            try Self.appendEvent(db, incidentID: incidentID, at: at, kind: kind, payload: payload)
        }
    }

    public func incidentEvents(incidentID: Int64) throws -> [IncidentEvent] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM incident_events WHERE incident_id = ? ORDER BY id",
                arguments: [incidentID]
            ).map { row in
                let payload = (row["payload"] as String).data(using: .utf8) ?? Data()
                return IncidentEvent(
                    id: row["id"],
                    incidentID: row["incident_id"],
                    at: Date(timeIntervalSince1970: row["at"]),
                    kind: row["kind"],
                    payload: (try? JSONDecoder().decode(JSONValue.self, from: payload)) ?? .null
                )
            }
        }
    }

    /// Pages the on-call human for an incident at most once, ever: in one transaction, sets `paged_at` and
    /// writes the page to the outbox, unless the incident was already paged. Returns false when it was.
    public func markPaged(incidentID: Int64, message: DiscordMessage, now: Date = Date()) async throws -> Bool {
        try writeNow { db in
            let changed = try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM incidents WHERE id = ? AND paged_at IS NULL",
                arguments: [incidentID]
            )
            guard changed == 1 else { return false }
            try db.execute(
                sql: "UPDATE incidents SET paged_at = ? WHERE id = ?",
                arguments: [now.timeIntervalSince1970, incidentID]
            )
            _ = try Self.insertOutbox(db, message, kind: "page", incidentID: incidentID, now: now)
            return true
        }
    }

    // MARK: Outbox

    public struct OutboxRow: Sendable, Hashable {
        public var id: Int64
        public var createdAt: Date
        public var kind: String
        public var incidentID: Int64?
        public var payload: String
        public var attempts: Int
        public var nextAttemptAt: Date
        public var deliveredAt: Date?
        public var failedAt: Date?
        public var lastError: String?
    }

    /// Writes a message to the outbox (durably) and returns its id.
    @discardableResult
    public func enqueue(_ message: DiscordMessage, kind: String, incidentID: Int64?, now: Date = Date()) async throws
        -> Int64
    {
        try writeNow { db in try Self.insertOutbox(db, message, kind: kind, incidentID: incidentID, now: now) }
    }

    /// Writes an outbox row inside a transaction the caller already holds (e.g. issue 5's journal, so a
    /// remediation record and its Discord message commit together). `payload` is the webhook JSON body.
    /// Wake the sender (`AlertOutbox.signal.signal()`) after the transaction commits.
    @discardableResult
    public static func enqueue(
        in db: Database,
        payload: [UInt8],
        kind: String,
        incidentID: Int64?,
        now: Date = Date()
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO outbox (created_at, kind, incident_id, payload, next_attempt_at) VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [
                now.timeIntervalSince1970, kind, incidentID, String(decoding: payload, as: UTF8.self),
                now.timeIntervalSince1970,
            ]
        )
        return db.lastInsertedRowID
    }

    /// Undelivered, unfailed rows due at `now`, oldest first, stopping at the first row that is not due yet:
    /// a message waiting for a retry holds back the ones after it, so they arrive in order.
    public func dueOutbox(now: Date, limit: Int = 20) throws -> [OutboxRow] {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT ?",
                arguments: [limit]
            ).map(Self.outboxRow(from:))
            return Array(rows.prefix { $0.nextAttemptAt <= now })
        }
    }

    /// When the oldest pending row is due (nil when nothing is pending).
    public func nextOutboxDue() throws -> Date? {
        try pool.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT next_attempt_at FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL
                    ORDER BY id LIMIT 1
                    """
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func allOutbox() throws -> [OutboxRow] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id").map(Self.outboxRow(from:)) }
    }

    public func markDelivered(_ id: Int64, at: Date) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
                arguments: [at.timeIntervalSince1970, id]
            )
        }
    }

    public func scheduleRetry(_ id: Int64, at: Date, error: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, error, id]
            )
        }
    }

    /// Parks a row that Discord refused (4xx other than 429): kept, never deleted, never retried.
    public func markFailed(_ id: Int64, at: Date, error: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, error, id]
            )
        }
    }

    // MARK: Helpers

    /// GRDB's synchronous write (one transaction), chosen explicitly so it is used from async callers too.
    private func writeNow<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.write(updates)
    }

    private static func loadState(_ db: Database, _ name: String) throws -> PropertyState? {
        try String.fetchOne(db, sql: "SELECT state FROM property_state WHERE name = ?", arguments: [name])
            .map(decodeState)
    }

    private static func decodeState(_ json: String) throws -> PropertyState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(PropertyState.self, from: Data(json.utf8))
    }

    private static func saveState(_ db: Database, _ state: PropertyState, now: Date) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
        try db.execute(
            sql: """
                INSERT INTO property_state (name, state, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
                """,
            arguments: [state.name, json, now.timeIntervalSince1970]
        )
    }

    private static func loadIncident(_ db: Database, _ id: Int64) throws -> Incident? {
        try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]).map(incident(from:))
    }

    private static func lastIncident(_ db: Database, _ property: String) throws -> Incident? {
        try Row.fetchOne(
            db,
            sql: "SELECT * FROM incidents WHERE property = ? ORDER BY id DESC LIMIT 1",
            arguments: [property]
        ).map(incident(from:))
    }

    private static func incident(from row: Row) -> Incident {
        Incident(
            id: row["id"],
            property: row["property"],
            openedAt: Date(timeIntervalSince1970: row["opened_at"]),
            closedAt: (row["closed_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
            health: Health(rawValue: row["health"]) ?? .down,
            pagedAt: (row["paged_at"] as Double?).map { Date(timeIntervalSince1970: $0) }
        )
    }

    @discardableResult
    private static func appendEvent(_ db: Database, incidentID: Int64, at: Date, kind: String, payload: JSONValue)
        throws -> Int64
    {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO incident_events (incident_id, at, kind, payload) VALUES (?, ?, ?, ?)",
            arguments: [incidentID, at.timeIntervalSince1970, kind, json]
        )
        return db.lastInsertedRowID
    }

    private static func insertOutbox(
        _ db: Database,
        _ message: DiscordMessage,
        kind: String,
        incidentID: Int64?,
        now: Date
    )
        throws -> Int64
    {
        try enqueue(in: db, payload: message.jsonBody(), kind: kind, incidentID: incidentID, now: now)
    }

    private static func outboxRow(from row: Row) -> OutboxRow {
        OutboxRow(
            id: row["id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            kind: row["kind"],
            incidentID: row["incident_id"],
            payload: row["payload"],
            attempts: row["attempts"],
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"]),
            deliveredAt: (row["delivered_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
            failedAt: (row["failed_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
            lastError: row["last_error"]
        )
    }
}

/// A transition to announce, with what a message needs to say about it.
public struct AlertEvent: Sendable {
    public var transition: Transition
    public var result: ProbeResult
    public var incident: MonitorStore.Incident?
    public var at: Date
    /// Extra context, e.g. "state changed during maintenance".
    public var note: String?

    public init(transition: Transition, result: ProbeResult, incident: MonitorStore.Incident?, at: Date, note: String?)
    {
        self.transition = transition
        self.result = result
        self.incident = incident
        self.at = at
        self.note = note
    }
}
