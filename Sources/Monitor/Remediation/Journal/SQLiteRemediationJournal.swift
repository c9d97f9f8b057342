import Foundation
public import GRDB

/// The journal in the monitor's SQLite file.
///
/// Tables: `remediation_journal` (one JSON entry a row) and `remediation_pages` (the incident's
/// `paged_at`, primary key on the incident: a second page is impossible, across restarts too).
/// Notices go wherever `enqueue` writes them, inside the same transaction: the monitor's Discord
/// outbox, or by default the `remediation_outbox` table.
public struct SQLiteRemediationJournal: RemediationJournal {
    /// Writes one notice inside the journal's transaction.
    public typealias Enqueue = @Sendable (Database, RemediationNotice) throws -> Void

    let writer: any DatabaseWriter
    let enqueue: Enqueue

    public init(writer: any DatabaseWriter, enqueue: Enqueue? = nil) throws {
        self.writer = writer
        self.enqueue = enqueue ?? SQLiteRemediationJournal.enqueueInOwnOutbox
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("remediation-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE remediation_journal (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        incident_id TEXT NOT NULL,
                        at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        entry TEXT NOT NULL
                    );
                    CREATE INDEX remediation_journal_incident ON remediation_journal(incident_id, seq);
                    CREATE TABLE remediation_pages (
                        incident_id TEXT PRIMARY KEY NOT NULL,
                        paged_at REAL NOT NULL,
                        reason TEXT NOT NULL
                    );
                    CREATE TABLE remediation_outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        incident_id TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        payload TEXT NOT NULL,
                        mention_user_id TEXT,
                        delivered_at REAL
                    );
                    """
            )
        }
        return migrator
    }

    /// The default `enqueue`: a row in `remediation_outbox` holding the Discord payload.
    public static let enqueueInOwnOutbox: Enqueue = { db, notice in
        try db.execute(
            sql: """
                INSERT INTO remediation_outbox (incident_id, created_at, payload, mention_user_id)
                VALUES (?, ?, ?, ?)
                """,
            arguments: [
                notice.incidentID, Date().timeIntervalSince1970,
                String(decoding: notice.discordPayload(), as: UTF8.self), notice.mentionUserID,
            ]
        )
    }

    public func entries(for incidentID: String) async throws -> [RemediationJournalEntry] {
        let texts = try await writer.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT entry FROM remediation_journal WHERE incident_id = ? ORDER BY seq",
                arguments: [incidentID]
            )
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try texts.map { try decoder.decode(RemediationJournalEntry.self, from: Data($0.utf8)) }
    }

    public func append(_ entry: RemediationJournalEntry, notice: RemediationNotice?) async throws {
        let text = try Self.encode(entry)
        let enqueue = self.enqueue
        try await writer.write { db in
            try Self.insert(entry, text: text, db: db)
            if let notice { try enqueue(db, notice) }
        }
    }

    public func page(_ entry: RemediationJournalEntry, notice: RemediationNotice) async throws -> Bool {
        let text = try Self.encode(entry)
        let enqueue = self.enqueue
        return try await writer.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO remediation_pages (incident_id, paged_at, reason) VALUES (?, ?, ?)",
                arguments: [entry.incidentID, entry.at.timeIntervalSince1970, entry.reason ?? ""]
            )
            guard db.changesCount == 1 else { return false }
            try Self.insert(entry, text: text, db: db)
            try enqueue(db, notice)
            return true
        }
    }

    /// When the incident was paged, if it was.
    public func pagedAt(_ incidentID: String) async throws -> Date? {
        try await writer.read { db in
            try Double.fetchOne(
                db,
                sql: "SELECT paged_at FROM remediation_pages WHERE incident_id = ?",
                arguments: [incidentID]
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    private static func encode(_ entry: RemediationJournalEntry) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(entry), as: UTF8.self)
    }

    private static func insert(_ entry: RemediationJournalEntry, text: String, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO remediation_journal (incident_id, at, kind, entry) VALUES (?, ?, ?, ?)",
            arguments: [entry.incidentID, entry.at.timeIntervalSince1970, entry.kind.rawValue, text]
        )
    }
}
