public import ActionKit
public import Foundation
import GRDB
public import Probing

/// The durable state store: a SQLite file through GRDB (`DatabasePool`, WAL, `synchronous=FULL` on the writer
/// connection so an acknowledged commit survives power loss, not just a process crash).
///
/// Tables:
/// - `property_state`: debounce state per property (JSON of `PropertyState`);
/// - `incidents`: id, property, opened/closed, health, `paged_at`;
/// - `incident_events`: transitions and remediation journal entries appended to an incident;
/// - `outbox`: alert messages waiting for delivery (id, created, payload JSON, attempts, next attempt,
///   delivered/failed);
/// - `certificate_warnings`: the last certificate-expiry warning per property (`CertificateWarnings.swift`).
///
/// Exactly-once alerting across `kill -9`: a state transition, its incident change and its outbox row are
/// written in ONE transaction (`record`). Either all of it is on disk or none of it; after a restart the
/// probe is simply repeated and, since the new state is already stored, no second transition is produced.
/// Delivery is at-least-once in theory: the row is marked delivered right after Discord's 2xx, so only a crash
/// in that window (microseconds) re-sends a message.
///
/// Each table has one small repository (`SQLite/`: a GRDB record and its queries); every method here is one
/// transaction composing them. Nothing outside this folder sees SQL or GRDB.
///
/// Writes are synchronous on purpose (the `async` signatures only let callers suspend): a cancelled task, e.g.
/// during shutdown, still completes a record it has started instead of dropping it.
public final class MonitorStore: MonitorStorage {
    /// Internal so that each topic's extension (`History.swift`) composes its own transactions.
    let pool: DatabasePool
    /// The SQLite file, named in every error (`StoreError`).
    public let path: String

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try StoreError.naming(path, "open") { try DatabasePool(path: path, configuration: configuration) }
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
        // Pages and transition alerts are urgent: they go ahead of narration (remediation notices). All
        // transitions, not only DOWN ones, so a flapping property's alerts keep their order among themselves.
        migrator.registerMigration("monitor-v2-urgent-outbox") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
                    UPDATE outbox SET urgent = 1 WHERE kind IN ('page', 'transition');
                    """
            )
        }
        IncidentMessageRepository.registerMigration(&migrator)
        IncidentGroupRepository.registerMigration(&migrator)
        Self.registerCertificateWarnings(&migrator)
        HistoryRepository.registerMigration(&migrator)
        ReminderRepository.registerMigration(&migrator)
        // Locations (issue 13): each location's own debounce per property, and each location's heartbeat.
        migrator.registerMigration("monitor-v3-locations") { db in
            try db.execute(sql: LocationStateRepository.schema)
        }
        // Remediation leases (issue 13): one remediator per incident, fenced by a token.
        migrator.registerMigration("monitor-v3-leases") { db in
            try db.execute(sql: LeaseRepository.schema)
        }
        Self.registerLocationSilence(&migrator)
        HistoryRepository.registerLocationMigration(&migrator)
        try StoreError.naming(path, "migrate") { try Self.migrate(migrator, pool) }
        // On the writer, once it is open: `DatabasePool` sets `synchronous = NORMAL` when it turns WAL on, after
        // `prepareDatabase` has run (a FULL set there never took effect: no commit was synced).
        try StoreError.naming(path, "open") {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        }
    }

    /// Runs the migrations, again while one fails with SQLite's generic error for up to 5 s: GRDB's migrator
    /// reads what is applied before each migration's own transaction, so of two processes opening a new file at
    /// once the later one runs a migration the other has just run ("table … already exists", "duplicate column
    /// name"); run again, it skips what the other applied. A migration that really fails still fails, 5 s later.
    private static func migrate(_ migrator: DatabaseMigrator, _ pool: DatabasePool) throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while true {
            do {
                return try migrator.migrate(pool)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR && ContinuousClock.now < deadline
            {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    // MARK: Probe results and silences

    public func state(of name: String) throws -> PropertyState? {
        try read { db in try PropertyStateRepository.find(db, name) }
    }

    public func allStates() throws -> [PropertyState] {
        try read { db in try PropertyStateRepository.all(db) }
    }

    public func record(
        _ result: ProbeResult,
        policy: Debounce.Policy,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome {
        try await record(result, at: .solo, policy: policy, incidentGroup: nil, now: now, message: message)
    }

    public func record(
        _ result: ProbeResult,
        at location: LocationContext,
        policy: Debounce.Policy,
        incidentGroup: String?,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome {
        try write { db in
            try Self.record(
                db,
                RecordRequest(
                    result,
                    at: location,
                    policy: policy,
                    incidentGroup: incidentGroup,
                    now: now,
                    message: message
                )
            )
        }
    }

    public func record(batch requests: [RecordRequest]) async throws -> [RecordOutcome] {
        try write { db in
            try requests.map { request in
                if let sample = request.sample { try HistoryRepository.insert(db, sample) }
                return try Self.record(db, request)
            }
        }
    }

    /// One result's record (see `record(_:at:…)`), in the caller's transaction.
    private static func record(_ db: Database, _ request: RecordRequest) throws -> RecordOutcome {
        let (result, location, policy) = (request.result, request.location, request.policy)
        let (incidentGroup, now, message) = (request.incidentGroup, request.now, request.message)
        let previous = try PropertyStateRepository.find(db, result.property) ?? PropertyState(name: result.property)
        let seen =
            try LocationStateRepository.find(db, property: result.property, location: location.name)
            ?? Quorum.seed(from: previous)
        var own = Quorum.ownStep(result, seen: seen, policy: policy, now: now)
        try LocationStateRepository.save(db, location: location.name, own.state, now: now)
        if Quorum.superseded(result, at: location, fleet: previous) {
            return .superseded(fleet: previous, now: now)
        }
        try LocationStateRepository.heartbeat(db, location: location.name, now: now)
        let decision = Quorum.decide(
            try LocationStateRepository.views(db, property: result.property, own: (location.name, own.state)),
            now: now,
            context: location
        )
        let advisory = Quorum.advisory(
            own: &own.state,
            location: location.name,
            decision: decision,
            policy: policy,
            now: now
        )
        if advisory != nil { try LocationStateRepository.save(db, location: location.name, own.state, now: now) }
        let step = Quorum.fleetStep(previous: previous, result: result, decision: decision, location: own)
        var state = step.state
        var incident: Incident? = try state.openIncidentID.flatMap { try IncidentRepository.find(db, $0) }
        var transitionEventID: Int64?
        var joined = false
        if let transition = step.transition {
            switch transition.kind {
            case .opened:
                if let group = incidentGroup, let open = try IncidentGroupRepository.openIncident(db, group: group) {
                    // Same host and service: the property joins the incident already open for them.
                    joined = true
                    if transition.to == .down, open.health != .down {
                        try IncidentRepository.setHealth(db, open.id, .down)
                    }
                    incident = try IncidentRepository.find(db, open.id)
                } else {
                    incident = try IncidentRepository.open(
                        db,
                        property: result.property,
                        at: now,
                        health: transition.to
                    )
                    if let id = incident?.id, let group = incidentGroup {
                        try IncidentGroupRepository.setGroup(db, id, group)
                    }
                }
                if let id = incident?.id { try IncidentGroupRepository.join(db, id, property: result.property) }
                state.openIncidentID = incident?.id
            case .escalated, .deescalated:
                if let id = state.openIncidentID {
                    try IncidentRepository.setHealth(db, id, transition.to)
                    incident = try IncidentRepository.find(db, id)
                }
            case .recovered:
                if let id = state.openIncidentID {
                    // The incident resolves when the last of its properties recovers.
                    try IncidentGroupRepository.leave(db, id, property: result.property)
                    if try IncidentGroupRepository.openMembers(db, id) == 0 {
                        try IncidentRepository.close(db, id, at: now)
                    }
                    incident = try IncidentRepository.find(db, id)
                }
                state.openIncidentID = nil
            }
            if let id = incident?.id {
                transitionEventID = try IncidentEventRepository.append(
                    db,
                    incidentID: id,
                    at: now,
                    kind: "transition",
                    payload: TransitionRecord.payload(transition, result)
                )
            }
        }
        let silenced = state.isSilenced(at: now)
        var outboxID: Int64?
        if let transition = step.transition, !silenced {
            let event = AlertEvent(transition: transition, result: result, incident: incident, at: now, note: nil)
            let rendered = message(event)
            if rendered is IncidentMessageRender, let id = incident?.id {
                try IncidentMessageRepository.ensure(db, id, at: now)
            } else {
                outboxID = try Self.announce(db, event, { _ in rendered })
            }
            state.announced = transition.to
        }
        if let id = incident?.id, let eventID = transitionEventID {
            let render = try IncidentMessageRepository.touch(db, id, through: eventID, now: now)
            outboxID = outboxID ?? render
        }
        var advisoryID: Int64?
        if let advisory, !silenced {
            advisoryID = try OutboxRepository.insert(
                db,
                message(.advisory(advisory, result: result, at: now)),
                kind: "advisory",
                incidentID: nil,
                now: now
            )
        }
        try PropertyStateRepository.save(db, state, now: now)
        var outcome = RecordOutcome(
            state: state,
            transition: step.transition,
            confirmAt: step.confirmAt,
            incident: incident,
            outboxID: outboxID ?? advisoryID,
            silenced: silenced,
            quorum: decision,
            advisory: silenced ? nil : advisory
        )
        outcome.joinedOpenIncident = joined
        return outcome
    }

    public func silence(_ name: String, until: Date, now: Date) async throws {
        try write { db in
            var state = try PropertyStateRepository.find(db, name) ?? PropertyState(name: name)
            state.silencedUntil = until
            try PropertyStateRepository.save(db, state, now: now)
        }
    }

    @discardableResult
    public func endSilence(
        _ name: String,
        now: Date,
        force: Bool,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome? {
        try write { db in
            guard var state = try PropertyStateRepository.find(db, name), let until = state.silencedUntil else {
                return nil
            }
            guard force || until <= now else { return nil }
            state.silencedUntil = nil
            var outboxID: Int64?
            var transition: Transition?
            let incident =
                try state.openIncidentID.flatMap { try IncidentRepository.find(db, $0) }
                ?? IncidentRepository.last(db, property: name)
            if state.announced != state.health, let result = state.lastResult {
                let t = Transition(from: state.announced, to: state.health)
                transition = t
                outboxID = try Self.announce(
                    db,
                    AlertEvent(
                        transition: t,
                        result: result,
                        incident: incident,
                        at: now,
                        note: "state changed during maintenance"
                    ),
                    message
                )
                state.announced = state.health
            }
            try PropertyStateRepository.save(db, state, now: now)
            return RecordOutcome(
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

    public func incident(id: IncidentID) throws -> Incident? {
        try read { db in try IncidentRepository.find(db, id) }
    }

    public func openIncident(for property: String) throws -> Incident? {
        try read { db in try IncidentRepository.openOne(db, property: property) }
    }

    public func openIncidentCount() throws -> Int {
        try read { db in try IncidentRepository.openCount(db) }
    }

    public func incidents(for property: String? = nil) throws -> [Incident] {
        try read { db in try IncidentRepository.all(db, property: property) }
    }

    public func incidentEvents(incidentID: IncidentID) throws -> [IncidentEvent] {
        try read { db in try IncidentEventRepository.all(db, incidentID: incidentID) }
    }

    public func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)? = nil,
        noticeKind: String = "remediation"
    ) async throws {
        try write { db in
            try Self.append(
                db,
                incidentID,
                kind: kind,
                payload: payload,
                at: at,
                notice: notice,
                noticeKind: noticeKind
            )
        }
    }

    /// An incident record and its notice, in the caller's transaction: an incident with a living message shows
    /// the notice there (one coalesced edit); without one, one post per step, capped per incident, then one fold.
    static func append(
        _ db: Database,
        _ incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String
    ) throws {
        let eventID = try IncidentEventRepository.append(
            db,
            incidentID: incidentID,
            at: at,
            kind: kind,
            payload: payload,
            notice: notice
        )
        if try IncidentMessageRepository.touch(db, incidentID, through: eventID, now: Date()) != nil { return }
        if let notice {
            try NarrationFold.post(db, notice, kind: noticeKind, incidentID: incidentID, now: Date())
        }
    }

    public func pageOnce(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        page: any OutboxMessage
    ) async throws -> Bool {
        try write { db in
            guard try IncidentRepository.markPaged(db, incidentID, at: at) else { return false }
            let eventID = try IncidentEventRepository.append(
                db,
                incidentID: incidentID,
                at: at,
                kind: kind,
                payload: payload,
                notice: page
            )
            _ = try OutboxRepository.insert(db, page, kind: "page", incidentID: incidentID, now: Date(), urgent: true)
            try IncidentMessageRepository.touch(db, incidentID, through: eventID, now: Date())
            return true
        }
    }

    /// Queues the alert for a transition (outbox kind `transition`, urgent) and returns its row id.
    private static func announce(
        _ db: Database,
        _ event: AlertEvent,
        _ message: (AlertEvent) -> any OutboxMessage
    ) throws -> Int64 {
        try OutboxRepository.insert(
            db,
            message(event),
            kind: "transition",
            incidentID: event.incident?.id,
            now: event.at,
            urgent: true
        )
    }

    /// GRDB's synchronous write (one transaction), chosen explicitly so it is used from async callers too.
    /// One write transaction (also for the store's operations kept in other files, `SQLite/<Topic>.swift`),
    /// its errors naming the store's file.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try StoreError.naming(path, "write") { try pool.write(updates) }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), as the store runs with it.
    func writerSynchronous() throws -> Int {
        try write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// One read, its errors naming the store's file.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try StoreError.naming(path, "read") { try pool.read(body) }
    }
}
