public import ActionKit
public import Foundation
public import Monitor

/// Which way the engine chose actions.
public enum RemediationPath: String, Sendable, Hashable, Codable {
    /// The model picked each tool call.
    case model
    /// The deterministic ladder: remediations for the service by ascending rank.
    case ladder
}

/// One durable record of what the engine decided or saw for an incident.
///
/// The journal is the engine's memory across restarts: a remediation whose `action` entry exists
/// is never started again for that incident (even when its result was never written), and the
/// rounds already spent are the sum of `roundCost`.
public struct RemediationJournalEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Automation began for the incident (or resumed, with `result` saying so).
        case started
        /// An action is about to be sent to the agent (written before the call).
        case action
        /// What the agent answered for the preceding `action`.
        case actionResult
        /// A tool call the leash refused: nothing ran.
        case violation
        /// The property probed again after a remediation's settle time.
        case reprobe
        /// The model API failed; the ladder takes over.
        case modelFailed
        /// The property is healthy again.
        case healed
        /// The on-call human was paged (at most one per incident).
        case paged
        /// Remediation did not run (no agent configured, journal trouble, maintenance).
        case note
    }

    public var incidentID: IncidentID
    public var at: Date
    public var kind: Kind
    public var path: RemediationPath?
    public var tool: String?
    public var actionKind: ActionKind?
    /// The model's reason for the call, or the ladder's.
    public var reason: String?
    public var modelRequestID: String?
    public var auditID: String?
    public var result: String?
    public var reprobe: String?
    /// Rounds this entry spends: 1 for a remediation attempt and for every leash violation.
    public var roundCost: Int

    public init(
        incidentID: IncidentID,
        at: Date = Date(),
        kind: Kind,
        path: RemediationPath? = nil,
        tool: String? = nil,
        actionKind: ActionKind? = nil,
        reason: String? = nil,
        modelRequestID: String? = nil,
        auditID: String? = nil,
        result: String? = nil,
        reprobe: String? = nil,
        roundCost: Int = 0
    ) {
        self.incidentID = incidentID
        self.at = at
        self.kind = kind
        self.path = path
        self.tool = tool
        self.actionKind = actionKind
        self.reason = reason
        self.modelRequestID = modelRequestID
        self.auditID = auditID
        self.result = result
        self.reprobe = reprobe
        self.roundCost = roundCost
    }

    enum CodingKeys: String, CodingKey {
        case incidentID = "incident_id"
        case at, kind, path, tool
        case actionKind = "action_kind"
        case reason
        case modelRequestID = "model_request_id"
        case auditID = "audit_id"
        case result, reprobe
        case roundCost = "round_cost"
    }
}

/// A Discord message about remediation, queued in the same transaction as its journal entry.
public struct RemediationNotice: Sendable, Hashable, Codable {
    public var incidentID: IncidentID
    public var property: String
    /// Plain text, at most Discord's 2,000 scalars (cut by `DiscordText`).
    public var content: String
    /// Set only on the page: the one user that may be pinged.
    public var mentionUserID: String?

    public init(incidentID: IncidentID, property: String, content: String, mentionUserID: String? = nil) {
        self.incidentID = incidentID
        self.property = property
        self.content = DiscordText.cut(content, to: DiscordText.contentLimit)
        self.mentionUserID = mentionUserID
    }
}

/// Durable memory of remediation decisions, and the single place a page is decided.
public protocol RemediationJournal: Sendable {
    /// Entries of one incident, oldest first.
    func entries(for incidentID: IncidentID) async throws -> [RemediationJournalEntry]
    /// Appends `entry` and, in the same transaction, queues `notice`.
    func append(_ entry: RemediationJournalEntry, notice: RemediationNotice?) async throws
    /// Marks the incident paged and, in the same transaction, appends `entry` and queues `notice`,
    /// unless it was paged already: then nothing is written and the answer is `false`.
    func page(_ entry: RemediationJournalEntry, notice: RemediationNotice) async throws -> Bool
}
