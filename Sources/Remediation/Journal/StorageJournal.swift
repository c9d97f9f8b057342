import ActionKit
public import Foundation
public import Monitor

/// The journal on the monitor's store, through `MonitorStorage`: entries are records of the incident
/// (kind `remediation.<kind>`), notices are outbox rows queued in the same transaction, and the page sets
/// the incident's `paged_at` in the transaction that queues it, unless it was set already.
public struct StorageJournal: RemediationJournal {
    let store: any MonitorStorage
    let outbox: AlertOutbox
    /// The remediation lease every entry is fenced with (nil: unfenced), renewed for `leaseDuration`.
    let lease: RemediationLease?
    let leaseDuration: TimeInterval
    /// Counts rounds, actions and pages under `property` (`MonitorMetrics`).
    let metrics: MonitorMetrics
    let property: String

    static let eventPrefix = "remediation."

    public init(
        store: any MonitorStorage,
        outbox: AlertOutbox,
        lease: RemediationLease? = nil,
        leaseDuration: TimeInterval = 120,
        metrics: MonitorMetrics = MonitorMetrics(),
        property: String = ""
    ) {
        self.store = store
        self.outbox = outbox
        self.lease = lease
        self.leaseDuration = leaseDuration
        self.metrics = metrics
        self.property = property
    }

    public func entries(for incidentID: IncidentID) async throws -> [RemediationJournalEntry] {
        let id = incidentID
        var entries = try await store.incidentEvents(incidentID: id)
            .filter { $0.kind.hasPrefix(Self.eventPrefix) }
            .compactMap { event -> RemediationJournalEntry? in
                guard let data = try? JSONEncoder().encode(event.payload) else { return nil }
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .secondsSince1970
                return try? decoder.decode(RemediationJournalEntry.self, from: data)
            }
        // A page queued before a crash still counts: never page twice.
        if let incident = try await store.incident(id: id), let pagedAt = incident.pagedAt,
            !entries.contains(where: { $0.kind == .paged })
        {
            entries.append(.init(incidentID: incidentID, at: pagedAt, kind: .paged, reason: "paged earlier"))
        }
        return entries
    }

    /// Writes the entry; under a lease, only while this instance still holds it (else `LeaseLost`, nothing
    /// written, so the action the entry precedes is never sent).
    public func append(_ entry: RemediationJournalEntry, notice: RemediationNotice?) async throws {
        let kind = Self.eventPrefix + entry.kind.rawValue
        let payload = try Self.payload(entry)
        let message = notice.map(Self.message)
        if let lease {
            try await store.appendIncidentEvent(
                incidentID: entry.incidentID,
                kind: kind,
                payload: payload,
                at: entry.at,
                notice: message,
                noticeKind: "remediation",
                fence: lease,
                duration: leaseDuration
            )
        } else {
            try await store.appendIncidentEvent(
                incidentID: entry.incidentID,
                kind: kind,
                payload: payload,
                at: entry.at,
                notice: message,
                noticeKind: "remediation"
            )
        }
        if notice != nil { outbox.wake() }
        if entry.roundCost > 0 { metrics.remediationRounds(property, entry.roundCost) }
        if entry.kind == .action, let action = entry.tool { metrics.remediationAction(property, action: action) }
    }

    public func page(_ entry: RemediationJournalEntry, notice: RemediationNotice) async throws -> Bool {
        let paged = try await store.pageOnce(
            incidentID: entry.incidentID,
            kind: Self.eventPrefix + entry.kind.rawValue,
            payload: try Self.payload(entry),
            at: entry.at,
            page: Self.message(notice)
        )
        if paged {
            outbox.wake()
            metrics.paged(property)
        }
        return paged
    }

    /// The Discord body of a notice: only the paged user may be pinged.
    package static func message(_ notice: RemediationNotice) -> DiscordMessage {
        guard let user = notice.mentionUserID else { return DiscordMessage(content: notice.content) }
        return DiscordMessage(content: notice.content, allowedMentions: .user(user))
    }

    /// The entry as the incident record's payload (dates as seconds since 1970, as the reader expects).
    static func payload(_ entry: RemediationJournalEntry) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(entry))
    }
}
