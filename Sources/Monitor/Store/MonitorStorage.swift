public import ActionKit
public import Foundation
public import Probing

/// A rendered message the outbox keeps and the sender delivers as is (for Discord: the webhook JSON body).
/// The store sees only the bytes; the alert layer decides what they say.
public protocol OutboxMessage: Sendable {
    var body: [UInt8] { get }
}

/// The monitor's durable state behind one seam: every method is one domain operation and one transaction,
/// takes and returns plain values, and is `async` so that a networked backend can implement it.
/// `MonitorStore` (SQLite through GRDB) is the implementation; `StorageContractTests` is the suite any
/// implementation must pass. No other module writes the store's tables.
public protocol MonitorStorage: Sendable {
    // MARK: Probe results and silences

    /// Applies one probe result: the debounce step, and in the same transaction the incident opened, changed
    /// or closed, the transition appended to it, and the alert rendered by `message` queued (unless silenced).
    func record(
        _ result: ProbeResult,
        policy: Debounce.Policy,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome

    /// Silences a property until `until` (maintenance).
    func silence(_ name: String, until: Date, now: Date) async throws

    /// Ends a silence (when `force`, or because it expired) and, when the state changed meanwhile, queues the
    /// announcement rendered by `message` in the same transaction.
    func endSilence(
        _ name: String,
        now: Date,
        force: Bool,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome?

    func state(of name: String) async throws -> PropertyState?
    func allStates() async throws -> [PropertyState]

    // MARK: Incidents

    func incident(id: IncidentID) async throws -> Incident?
    func openIncident(for property: String) async throws -> Incident?
    func openIncidentCount() async throws -> Int
    func incidents(for property: String?) async throws -> [Incident]
    func incidentEvents(incidentID: IncidentID) async throws -> [IncidentEvent]

    /// Appends a record to an incident and, in the same transaction, queues `notice` (outbox kind
    /// `noticeKind`). Throws, writing nothing, when the incident does not exist.
    func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String
    ) async throws

    /// Pages at most once per incident, ever: sets `paged_at`, appends the record and queues the page in one
    /// transaction, unless the incident was paged already (then nothing is written and the answer is false).
    func pageOnce(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        page: any OutboxMessage
    ) async throws -> Bool

    // MARK: Outbox

    /// Queues a message on its own and returns its row id.
    func enqueue(_ message: any OutboxMessage, kind: String, incidentID: IncidentID?, now: Date) async throws -> Int64
    /// Undelivered, unfailed rows due at `now`: pages and transition alerts first, then narration, each
    /// oldest first; stopping at the first one not due yet.
    func dueOutbox(now: Date, limit: Int) async throws -> [OutboxRow]
    /// When the oldest pending row is due (nil when nothing is pending).
    func nextOutboxDue() async throws -> Date?
    func allOutbox() async throws -> [OutboxRow]
    func markDelivered(_ id: Int64, at: Date) async throws
    func scheduleRetry(_ id: Int64, at: Date, error: String) async throws
    /// Parks a row the receiver refused: kept, never retried.
    func markFailed(_ id: Int64, at: Date, error: String) async throws
    /// Queues parked rows again, due at `now` in their original order (`ids` nil: every parked row; ids of
    /// rows that are not parked are ignored). Returns the ids requeued, in one transaction.
    func requeueFailed(_ ids: [Int64]?, now: Date) async throws -> [Int64]

    // MARK: Incident messages (one living Discord message per incident)

    /// The incident's living message, nil when it has none (it was announced with edits off).
    func incidentMessage(incidentID: IncidentID) async throws -> IncidentMessage?

    /// Discord answered 2xx to a create (`messageID` its id) or an edit (`messageID` nil) of the incident's
    /// message. In one transaction: keeps `messageID`, and marks outbox row `outboxID` delivered unless a newer
    /// step asked for another rendering meanwhile (the row's payload is no longer `rendered`): then the row
    /// stays due and the next pass edits again. Returns whether the row was marked delivered.
    func incidentMessageSent(
        outboxID: Int64,
        rendered: String,
        incidentID: IncidentID,
        messageID: String?,
        at: Date
    ) async throws -> Bool

    /// Discord no longer knows `messageID` (it answered 404 to an edit): forgets it, so that the next send
    /// creates a new message (and keeps that one's id).
    func forgetIncidentMessage(incidentID: IncidentID, messageID: String) async throws

    // MARK: Locations and correlation

    /// `record` as one location of a fleet sees it, for a property that shares its incident with others.
    /// The result steps this location's own debounce and renews its heartbeat; the property's state then
    /// follows the quorum of live locations (`Quorum.decide`). A confirmed transition away from healthy joins
    /// the incident already open for `incidentGroup` (its host and service; nil: never shared) instead of
    /// opening one of its own, and a recovery closes the incident only when the last of its properties has
    /// recovered. One transaction, like `record`, which is this with `LocationContext.solo` (a single instance
    /// is the whole fleet) and no group.
    func record(
        _ result: ProbeResult,
        at location: LocationContext,
        policy: Debounce.Policy,
        incidentGroup: String?,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome

    /// Records several probe results in ONE transaction (one commit): for each, its history sample (when the
    /// request carries one) and then exactly what `record(_:at:policy:incidentGroup:now:message:)` writes,
    /// results of one property in the order given. All or nothing: when anything fails, nothing of the batch
    /// is written and the error is thrown (`StoreUnavailable` when the store cannot be reached). Returns each
    /// request's outcome, in the order of `requests`.
    func record(batch requests: [RecordRequest]) async throws -> [RecordOutcome]

    // MARK: Reminders (a paged incident that stays unresolved)

    /// For every open, paged incident whose last reminder (or page) is at least `every` old at `now`: in one
    /// transaction, notes the reminder on the incident, appends it as a record and queues `message` for it
    /// (outbox kind `reminder`). Returns the incidents reminded.
    func remindDue(
        now: Date,
        every: TimeInterval,
        message: @escaping @Sendable (Incident) -> any OutboxMessage
    ) async throws -> [IncidentID]

    // MARK: Remediation leases

    /// Takes the remediation lease of an incident for `holder` until `now + duration`: granted when nobody
    /// holds it, when the holder's lease has expired (a takeover: the fencing token goes up by one), or when
    /// `holder` holds it already (renewed, same token). Nil while another holder's lease is valid, or once the
    /// remediation was completed.
    func acquireLease(incidentID: IncidentID, holder: String, now: Date, duration: TimeInterval) async throws
        -> RemediationLease?
    /// Appends like `appendIncidentEvent`, only while `lease` is still the incident's lease (same holder and
    /// token, not expired at `at`), and renews it until `at + duration`, in the same transaction. Otherwise
    /// writes nothing and throws `LeaseLost`: a holder that was taken over cannot write the journal entry
    /// that precedes its next action, so it never runs it.
    func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String,
        fence lease: RemediationLease,
        duration: TimeInterval
    ) async throws
    /// Marks the remediation done: the lease is never granted again (nothing is left to take over).
    func completeLease(_ lease: RemediationLease) async throws
}

extension MonitorStorage {
    /// `record(_:at:policy:incidentGroup:now:message:)` of one request on its own (its sample is not written).
    public func record(_ request: RecordRequest) async throws -> RecordOutcome {
        try await record(
            request.result,
            at: request.location,
            policy: request.policy,
            incidentGroup: request.incidentGroup,
            now: request.now,
            message: request.message
        )
    }

    /// `record` for a single instance (the whole fleet) of a property that shares its incident with others.
    public func record(
        _ result: ProbeResult,
        policy: Debounce.Policy,
        incidentGroup: String?,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome {
        try await record(result, at: .solo, policy: policy, incidentGroup: incidentGroup, now: now, message: message)
    }

    /// `record` as one location of a fleet sees it, for a property that shares its incident with none.
    public func record(
        _ result: ProbeResult,
        at location: LocationContext,
        policy: Debounce.Policy,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) async throws -> RecordOutcome {
        try await record(result, at: location, policy: policy, incidentGroup: nil, now: now, message: message)
    }
}
