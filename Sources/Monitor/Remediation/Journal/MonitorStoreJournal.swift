import ActionKit
import Foundation
import GRDB

/// The journal on the monitor's own store: entries are `incident_events` of the incident
/// (kind `remediation.<kind>`), notices are `outbox` rows written in the same transaction, and the
/// page sets the incident's `paged_at` in the transaction that queues it, unless it was set already.
struct MonitorStoreJournal: RemediationJournal {
    let store: MonitorStore
    let outbox: AlertOutbox

    static let eventPrefix = "remediation."

    func entries(for incidentID: String) async throws -> [RemediationJournalEntry] {
        guard let id = Int64(incidentID) else { return [] }
        var entries = try store.incidentEvents(incidentID: id)
            .filter { $0.kind.hasPrefix(Self.eventPrefix) }
            .compactMap { event -> RemediationJournalEntry? in
                guard let data = try? JSONEncoder().encode(event.payload) else { return nil }
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .secondsSince1970
                return try? decoder.decode(RemediationJournalEntry.self, from: data)
            }
        // A page queued by another path (or before a crash) still counts: never page twice.
        if let incident = try store.incident(id: id), let pagedAt = incident.pagedAt,
            !entries.contains(where: { $0.kind == .paged })
        {
            entries.append(.init(incidentID: incidentID, at: pagedAt, kind: .paged, reason: "paged earlier"))
        }
        return entries
    }

    func append(_ entry: RemediationJournalEntry, notice: RemediationNotice?) async throws {
        let id = try Self.incidentID(entry.incidentID)
        let payload = try Self.payload(entry)
        let message = notice.map { Self.message($0) }
        try await store.pool.write { db in
            try Self.insertEvent(db, id: id, entry: entry, payload: payload)
            if let message { try Self.insertOutbox(db, id: id, kind: "remediation", message: message) }
        }
        if message != nil { outbox.signal.signal() }
    }

    func page(_ entry: RemediationJournalEntry, notice: RemediationNotice) async throws -> Bool {
        let id = try Self.incidentID(entry.incidentID)
        let payload = try Self.payload(entry)
        let message = Self.message(notice)
        let paged = try await store.pool.write { db -> Bool in
            try db.execute(
                sql: "UPDATE incidents SET paged_at = ? WHERE id = ? AND paged_at IS NULL",
                arguments: [entry.at.timeIntervalSince1970, id]
            )
            guard db.changesCount == 1 else { return false }
            try Self.insertEvent(db, id: id, entry: entry, payload: payload)
            try Self.insertOutbox(db, id: id, kind: "page", message: message)
            return true
        }
        if paged { outbox.signal.signal() }
        return paged
    }

    static func message(_ notice: RemediationNotice) -> DiscordMessage {
        guard let user = notice.mentionUserID else { return DiscordMessage(content: notice.content) }
        return DiscordMessage(content: notice.content, allowedMentions: .user(user))
    }

    static func incidentID(_ text: String) throws -> Int64 {
        guard let id = Int64(text) else { throw JournalError(message: "incident id \(text) is not a store id") }
        return id
    }

    static func payload(_ entry: RemediationJournalEntry) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(entry), as: UTF8.self)
    }

    static func insertEvent(_ db: Database, id: Int64, entry: RemediationJournalEntry, payload: String) throws {
        try db.execute(
            sql: "INSERT INTO incident_events (incident_id, at, kind, payload) VALUES (?, ?, ?, ?)",
            arguments: [id, entry.at.timeIntervalSince1970, eventPrefix + entry.kind.rawValue, payload]
        )
    }

    static func insertOutbox(_ db: Database, id: Int64, kind: String, message: DiscordMessage) throws {
        let now = Date().timeIntervalSince1970
        try db.execute(
            sql: "INSERT INTO outbox (created_at, kind, incident_id, payload, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [now, kind, id, String(decoding: message.jsonBody(), as: UTF8.self), now]
        )
    }

    struct JournalError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
