public import ActionKit
public import Foundation
public import Probing

// The values the store takes and gives back: plain Swift values, no database types, so that a second
// backend (PostgreSQL) can implement `MonitorStorage` with the same ones.

/// An incident: opened by a confirmed transition away from healthy, closed by the recovery.
public struct Incident: Sendable, Hashable, Codable {
    public var id: IncidentID
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

/// A record appended to an incident: a transition, or a remediation journal entry (`remediation.<kind>`).
public struct IncidentEvent: Sendable, Hashable, Codable {
    public var id: Int64
    public var incidentID: IncidentID
    public var at: Date
    public var kind: String
    public var payload: JSONValue
    /// The narration queued with the record (a rendered message body), if any: the living message's timeline.
    public var notice: String? = nil
}

/// One row of the alert outbox. `payload` is the rendered message body the sender delivers.
public struct OutboxRow: Sendable, Hashable {
    public var id: Int64
    public var createdAt: Date
    public var kind: String
    public var incidentID: IncidentID?
    public var payload: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var failedAt: Date?
    public var lastError: String?
}

/// What `record` did.
public struct RecordOutcome: Sendable {
    public var state: PropertyState
    public var transition: Transition?
    public var confirmAt: Date?
    /// The incident opened, changed or closed by the transition (or still open).
    public var incident: Incident?
    /// The outbox row written for the transition (nil when none, or silenced).
    public var outboxID: Int64?
    public var silenced: Bool
    /// The fleet's verdict this result contributed to (who is live, who sees the property failing).
    public var quorum: QuorumDecision? = nil
    /// The advisory queued for this location (outbox kind `advisory`), if any.
    public var advisory: LocationAdvisory? = nil
    /// The transition joined an incident already open for the same host and service (`incidentGroup`):
    /// that incident's remediation and page are this property's too.
    public var joinedOpenIncident = false
    /// A result kept while the store was unreachable, older than the fleet's newest record for the property:
    /// only the location's own debounce took it; it decided nothing for the fleet (`Quorum.superseded`).
    public var superseded = false
}

/// A transition to announce, with what a message needs to say about it.
public struct AlertEvent: Sendable {
    public var transition: Transition
    public var result: ProbeResult
    public var incident: Incident?
    public var at: Date
    /// Extra context, e.g. "state changed during maintenance".
    public var note: String?
    /// Set for a location's advisory (failing alone, below quorum; or cleared) instead of a transition alert.
    public var advisory: LocationAdvisory? = nil

    public init(transition: Transition, result: ProbeResult, incident: Incident?, at: Date, note: String?) {
        self.transition = transition
        self.result = result
        self.incident = incident
        self.at = at
        self.note = note
    }
}

extension AlertEvent {
    /// The event an advisory is rendered from (its message kind is `advisory`, not a transition).
    static func advisory(_ advisory: LocationAdvisory, result: ProbeResult, at: Date) -> AlertEvent {
        var event = AlertEvent(
            transition: Transition(from: .healthy, to: advisory.sees),
            result: result,
            incident: nil,
            at: at,
            note: nil
        )
        event.advisory = advisory
        return event
    }
}

/// The right to remediate one incident: who holds it, until when, and the fencing token (one more on each
/// takeover) that every journal write before an action is checked against.
public struct RemediationLease: Sendable, Hashable {
    public var incidentID: IncidentID
    public var holder: String
    public var token: Int64
    public var expiresAt: Date

    public init(incidentID: IncidentID, holder: String, token: Int64, expiresAt: Date) {
        self.incidentID = incidentID
        self.holder = holder
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// A journal write under a lease that is no longer this holder's (taken over, expired or completed).
public struct LeaseLost: Error, CustomStringConvertible {
    public var lease: RemediationLease
    public var description: String {
        "incident \(lease.incidentID): the remediation lease of \(lease.holder) (token \(lease.token)) is no longer held"
    }
}

/// An incident's living Discord message: created by the first send (`messageID` nil until Discord answered),
/// then edited in place as the incident proceeds.
public struct IncidentMessage: Sendable, Hashable {
    public var incidentID: IncidentID
    public var messageID: String?
    public var createdAt: Date
}

/// What a transition's `message` closure returns to ask for the incident's living message instead of a post
/// of its own: the store keeps the incident's message and queues one coalesced "render incident N's message"
/// outbox row (kind `incident`), which the sender renders from the incident's records when it sends it.
public struct IncidentMessageRender: OutboxMessage {
    public init() {}
    public var body: [UInt8] { Array(#"{"render":"incident"}"#.utf8) }

    /// The outbox kind of a render row (both backends).
    static let outboxKind = "incident"

    /// The payload of a render row: which incident, and the newest record the message must show.
    static func payload(_ id: IncidentID, through eventID: Int64) -> String {
        #"{"render":"incident","incident":\#(id.rawValue),"through":\#(eventID)}"#
    }
}

/// An outbox payload written as is (a render row's).
struct RenderedPayload: OutboxMessage {
    let text: String
    init(_ text: String) { self.text = text }
    var body: [UInt8] { Array(text.utf8) }
}
