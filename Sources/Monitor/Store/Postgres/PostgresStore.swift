public import ActionKit
public import Foundation
public import Logging
import PostgresNIO
public import Probing
public import ServiceLifecycle

/// The state store on PostgreSQL, shared by any number of monitors: `MonitorStorage` through postgres-nio's
/// `PostgresClient` (a connection pool; `run()` it in the monitor's service group).
///
/// The tables are the SQLite store's (see `PostgresMigrations`), each with its SQL in one file here
/// (`PostgresPropertyStates`, `PostgresIncidents`, `PostgresIncidentEvents`, `PostgresOutbox`,
/// `PostgresIncidentMessages`, `PostgresIncidentGroups`, `PostgresReminders`, `PostgresCertificateWarnings`,
/// `PostgresHistory`);
/// every method is one transaction composing them, with the same meaning as in `MonitorStore`. What several
/// monitors add: `record` locks the property's row (`FOR UPDATE`), so their probe results for one property take
/// turns and each transition happens once; a partial unique index keeps one open incident per property;
/// `pageOnce` sets `paged_at` in the page's own transaction; a group's advisory lock makes properties of one host
/// and service confirmed down together share one incident; `dueOutbox` claims the rows it returns for this
/// monitor (`holder`), so two senders never send the same row.
///
/// Migrations run before the first operation (and alone with `zumik-monitor migrate`). Writes run to the end
/// even when the calling task is cancelled (as the SQLite store's synchronous writes do): a record begun during
/// shutdown is completed, not dropped.
public final class PostgresStore: MonitorStorage, Service {
    public let connectionString: PostgresConnectionString
    /// This monitor's name in outbox claims.
    public let holder: String
    /// How long a claim on outbox rows holds when its sender does not finish them (it died).
    public let outboxLease: TimeInterval
    private let client: PostgresClient
    private let logger: Logger
    private let migrations = MigrationGate()
    /// Told of every call's outcome (nil: nobody listens).
    public let health: StoreHealth?
    /// How long a call waits for a pooled connection before it fails as `StoreUnavailable`.
    public let connectionWait: Duration

    /// - Parameters:
    ///   - health: told whether each call reached the database.
    ///   - connectionWait: how long a call waits for a connection (`PostgresReachability.swift`).
    public init(
        _ connectionString: PostgresConnectionString,
        holder: String,
        outboxLease: TimeInterval = 60,
        health: StoreHealth? = nil,
        connectionWait: Duration = .seconds(5),
        logger: Logger
    ) {
        self.health = health
        self.connectionWait = connectionWait
        self.connectionString = connectionString
        self.holder = holder
        self.outboxLease = outboxLease
        self.logger = logger
        client = PostgresClient(configuration: connectionString.clientConfiguration, backgroundLogger: logger)
    }

    /// Runs the connection pool until the service group shuts down.
    public func run() async {
        await client.run()
    }

    /// Applies the schema versions not applied yet (under the advisory lock); the versions this call applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await migrate(begin: { _ in })
    }

    /// `migrate()`, calling `begin` once it has its connection (the connection wait ends there).
    private func migrate(begin: @escaping @Sendable (PostgresConnection) throws -> Void) async throws -> [Int] {
        let applied = try await client.withConnection { connection in
            try begin(connection)
            return try await PostgresMigrations.migrate(connection, logger: logger)
        }
        await migrations.markDone()
        return applied
    }

    // MARK: Probe results and silences

    public func state(of name: String) async throws -> PropertyState? {
        try await read { connection, logger in try await PostgresPropertyStates.find(connection, name, logger: logger) }
    }

    public func allStates() async throws -> [PropertyState] {
        try await read { connection, logger in try await PostgresPropertyStates.all(connection, logger: logger) }
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
        let request = RecordRequest(
            result,
            at: location,
            policy: policy,
            incidentGroup: incidentGroup,
            now: now,
            message: message
        )
        return try await write { connection, logger in try await Self.record(connection, request, logger: logger) }
    }

    public func record(batch requests: [RecordRequest]) async throws -> [RecordOutcome] {
        try await write(operation: "record") { connection, logger in
            // Every property's row first, in name order: two locations' batches never wait on each other crosswise.
            let names = Set(requests.map(\.result.property))
            if names.count > 1 { try await PostgresPropertyStates.lockExisting(connection, names, logger: logger) }
            var outcomes: [RecordOutcome] = []
            for request in requests {
                if let sample = request.sample { try await PostgresHistory.insert(connection, sample, logger: logger) }
                outcomes.append(try await Self.record(connection, request, logger: logger))
            }
            return outcomes
        }
    }

    /// One result's record (see `record(_:at:…)`), in the caller's transaction.
    private static func record(
        _ connection: PostgresConnection,
        _ request: RecordRequest,
        logger: Logger
    ) async throws -> RecordOutcome {
        let (result, location, policy) = (request.result, request.location, request.policy)
        let (incidentGroup, now, message) = (request.incidentGroup, request.now, request.message)
        let previous = try await PostgresPropertyStates.lock(connection, result.property, now: now, logger: logger)
        let seen =
            try await PostgresLocations.find(
                connection,
                property: result.property,
                location: location.name,
                logger: logger
            ) ?? Quorum.seed(from: previous)
        var own = Quorum.ownStep(result, seen: seen, policy: policy, now: now)
        try await PostgresLocations.save(connection, location: location.name, own.state, now: now, logger: logger)
        if Quorum.superseded(result, at: location, fleet: previous) {
            return .superseded(fleet: previous, now: now)
        }
        try await PostgresLocations.heartbeat(connection, location: location.name, now: now, logger: logger)
        let decision = Quorum.decide(
            try await PostgresLocations.views(
                connection,
                property: result.property,
                own: (location.name, own.state),
                logger: logger
            ),
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
        if advisory != nil {
            try await PostgresLocations.save(
                connection,
                location: location.name,
                own.state,
                now: now,
                logger: logger
            )
        }
        let step = Quorum.fleetStep(previous: previous, result: result, decision: decision, location: own)
        var state = step.state
        var incident: Incident? = nil
        if let id = state.openIncidentID {
            incident = try await PostgresIncidents.find(connection, id, logger: logger)
        }
        var transitionEventID: Int64?
        var joined = false
        if let transition = step.transition {
            switch transition.kind {
            case .opened:
                if let group = incidentGroup {
                    try await PostgresIncidentGroups.lock(connection, group: group, logger: logger)
                }
                if let group = incidentGroup,
                    let open = try await PostgresIncidentGroups.openIncident(
                        connection,
                        group: group,
                        logger: logger
                    )
                {
                    // Same host and service: the property joins the incident already open for them.
                    joined = true
                    if transition.to == .down, open.health != .down {
                        try await PostgresIncidents.setHealth(connection, open.id, .down, logger: logger)
                    }
                    incident = try await PostgresIncidents.find(connection, open.id, logger: logger)
                } else {
                    incident = try await PostgresIncidents.open(
                        connection,
                        property: result.property,
                        at: now,
                        health: transition.to,
                        logger: logger
                    )
                    if let id = incident?.id, let group = incidentGroup {
                        try await PostgresIncidentGroups.setGroup(connection, id, group, logger: logger)
                    }
                }
                if let id = incident?.id {
                    try await PostgresIncidentGroups.join(connection, id, property: result.property, logger: logger)
                }
                state.openIncidentID = incident?.id
            case .escalated, .deescalated:
                if let id = state.openIncidentID {
                    try await PostgresIncidents.setHealth(connection, id, transition.to, logger: logger)
                    incident = try await PostgresIncidents.find(connection, id, logger: logger)
                }
            case .recovered:
                if let id = state.openIncidentID {
                    // The incident resolves when the last of its properties recovers.
                    if try await PostgresIncidentGroups.leave(
                        connection,
                        id,
                        property: result.property,
                        logger: logger
                    ) {
                        try await PostgresIncidents.close(connection, id, at: now, logger: logger)
                    }
                    incident = try await PostgresIncidents.find(connection, id, logger: logger)
                }
                state.openIncidentID = nil
            }
            if let id = incident?.id {
                transitionEventID = try await PostgresIncidentEvents.append(
                    connection,
                    incidentID: id,
                    at: now,
                    kind: "transition",
                    payload: TransitionRecord.payload(transition, result),
                    logger: logger
                )
            }
        }
        let silenced = state.isSilenced(at: now)
        var outboxID: Int64?
        if let transition = step.transition, !silenced {
            let event = AlertEvent(transition: transition, result: result, incident: incident, at: now, note: nil)
            let rendered = message(event)
            if rendered is IncidentMessageRender, let id = incident?.id {
                try await PostgresIncidentMessages.ensure(connection, id, at: now, logger: logger)
            } else {
                outboxID = try await Self.announce(connection, event, { _ in rendered }, logger: logger)
            }
            state.announced = transition.to
        }
        if let id = incident?.id, let eventID = transitionEventID {
            let render = try await PostgresIncidentMessages.touch(
                connection,
                id,
                through: eventID,
                now: now,
                logger: logger
            )
            outboxID = outboxID ?? render
        }
        var advisoryID: Int64?
        if let advisory, !silenced {
            advisoryID = try await PostgresOutbox.insert(
                connection,
                message(.advisory(advisory, result: result, at: now)),
                kind: "advisory",
                incidentID: nil,
                now: now,
                logger: logger
            )
        }
        try await PostgresPropertyStates.save(connection, state, now: now, logger: logger)
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
        try await write { connection, logger in
            var state = try await PostgresPropertyStates.lock(connection, name, now: now, logger: logger)
            state.silencedUntil = until
            try await PostgresPropertyStates.save(connection, state, now: now, logger: logger)
        }
    }

    public func endSilence(
        _ name: String,
        now: Date,
        force: Bool,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome? {
        try await write { connection, logger in
            guard try await PostgresPropertyStates.find(connection, name, logger: logger) != nil else { return nil }
            var state = try await PostgresPropertyStates.lock(connection, name, now: now, logger: logger)
            guard let until = state.silencedUntil, force || until <= now else { return nil }
            state.silencedUntil = nil
            var outboxID: Int64?
            var transition: Transition?
            var incident: Incident? = nil
            if let id = state.openIncidentID {
                incident = try await PostgresIncidents.find(connection, id, logger: logger)
            }
            if incident == nil {
                incident = try await PostgresIncidents.last(connection, property: name, logger: logger)
            }
            if state.announced != state.health, let result = state.lastResult {
                let t = Transition(from: state.announced, to: state.health)
                transition = t
                outboxID = try await Self.announce(
                    connection,
                    AlertEvent(
                        transition: t,
                        result: result,
                        incident: incident,
                        at: now,
                        note: "state changed during maintenance"
                    ),
                    message,
                    logger: logger
                )
                state.announced = state.health
            }
            try await PostgresPropertyStates.save(connection, state, now: now, logger: logger)
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

    public func incident(id: IncidentID) async throws -> Incident? {
        try await read { connection, logger in try await PostgresIncidents.find(connection, id, logger: logger) }
    }

    public func openIncident(for property: String) async throws -> Incident? {
        try await read { connection, logger in
            try await PostgresIncidents.openOne(connection, property: property, logger: logger)
        }
    }

    public func openIncidentCount() async throws -> Int {
        try await read { connection, logger in try await PostgresIncidents.openCount(connection, logger: logger) }
    }

    public func incidents(for property: String?) async throws -> [Incident] {
        try await read { connection, logger in
            try await PostgresIncidents.all(connection, property: property, logger: logger)
        }
    }

    public func incidentEvents(incidentID: IncidentID) async throws -> [IncidentEvent] {
        try await read { connection, logger in
            try await PostgresIncidentEvents.all(connection, incidentID: incidentID, logger: logger)
        }
    }

    public func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String
    ) async throws {
        try await write { connection, logger in
            try await Self.append(
                connection,
                incidentID,
                kind: kind,
                payload: payload,
                at: at,
                notice: notice,
                noticeKind: noticeKind,
                logger: logger
            )
        }
    }

    /// An incident record and its notice, in the caller's transaction: an incident with a living message shows
    /// the notice there (one coalesced edit), not as a post.
    static func append(
        _ connection: PostgresConnection,
        _ incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String,
        logger: Logger
    ) async throws {
        let eventID = try await PostgresIncidentEvents.append(
            connection,
            incidentID: incidentID,
            at: at,
            kind: kind,
            payload: payload,
            notice: notice,
            logger: logger
        )
        if try await PostgresIncidentMessages.touch(
            connection,
            incidentID,
            through: eventID,
            now: Date(),
            logger: logger
        ) != nil {
            return
        }
        if let notice {
            _ = try await PostgresOutbox.insert(
                connection,
                notice,
                kind: noticeKind,
                incidentID: incidentID,
                now: Date(),
                logger: logger
            )
        }
    }

    public func pageOnce(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        page: any OutboxMessage
    ) async throws -> Bool {
        try await write { connection, logger in
            guard try await PostgresIncidents.markPaged(connection, incidentID, at: at, logger: logger) else {
                return false
            }
            let eventID = try await PostgresIncidentEvents.append(
                connection,
                incidentID: incidentID,
                at: at,
                kind: kind,
                payload: payload,
                notice: page,
                logger: logger
            )
            _ = try await PostgresOutbox.insert(
                connection,
                page,
                kind: "page",
                incidentID: incidentID,
                now: Date(),
                urgent: true,
                logger: logger
            )
            try await PostgresIncidentMessages.touch(
                connection,
                incidentID,
                through: eventID,
                now: Date(),
                logger: logger
            )
            return true
        }
    }

    // MARK: Transactions

    /// Queues the alert for a transition (outbox kind `transition`, urgent) and returns its row id.
    private static func announce(
        _ connection: PostgresConnection,
        _ event: AlertEvent,
        _ message: (AlertEvent) -> any OutboxMessage,
        logger: Logger
    ) async throws -> Int64 {
        try await PostgresOutbox.insert(
            connection,
            message(event),
            kind: "transition",
            incidentID: event.incident?.id,
            now: event.at,
            urgent: true,
            logger: logger
        )
    }

    /// One transaction, run to its end even if the caller is cancelled (in a task of its own); for the
    /// operations kept in the other files here too. `operation` (the calling method) names it in
    /// ``StoreHealth`` and ``StoreUnavailable`` (`PostgresReachability.swift`).
    func write<T: Sendable>(
        operation: String = #function,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let (client, logger) = (client, logger)
        return try await Task {
            try await Self.reaching(Self.operationName(operation), wait: connectionWait, health: health) { begin in
                try await self.migrations.ensure { try await self.migrate(begin: begin) }
                do {
                    return try await client.withConnection { connection in
                        try begin(connection)
                        return try await connection.withTransaction(logger: logger) { try await body($0, logger) }
                    }
                } catch let error as PostgresTransactionError {
                    // What the transaction's body threw (e.g. `LeaseLost`), once it was rolled back.
                    if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
                    throw error
                }
            }
        }.value
    }

    /// One read on a pooled connection.
    func read<T: Sendable>(
        operation: String = #function,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let (client, logger) = (client, logger)
        return try await Self.reaching(Self.operationName(operation), wait: connectionWait, health: health) { begin in
            try await self.migrations.ensure { try await self.migrate(begin: begin) }
            return try await client.withConnection { connection in
                try begin(connection)
                return try await body(connection, logger)
            }
        }
    }

    /// `record(_:at:…)` → `record`.
    static func operationName(_ function: String) -> String {
        String(function.prefix { $0 != "(" })
    }
}

/// Whether this process has migrated the schema; the first operation migrates, later ones skip the check.
private actor MigrationGate {
    private var done = false

    func markDone() { done = true }

    func ensure(_ migrate: @Sendable () async throws -> [Int]) async throws {
        guard !done else { return }
        _ = try await migrate()
    }
}

/// A statement that should have returned a row returned none.
enum PostgresStoreError: Error, CustomStringConvertible {
    case noRow(String, String)

    var description: String {
        switch self {
        case .noRow(let table, let what): "PostgreSQL: no row returned from \(table) for \(what)"
        }
    }
}
