import Foundation
import GRDB

/// Narration of an incident without a living message (`discord.edit_messages: false`): the first `cap` notices
/// are posted; the next one queues one fold row (kind `fold`), which the sender renders when it sends it
/// ("…and N more steps"), counting the steps not posted; later notices are kept with their records only.
public enum NarrationFold {
    /// Narration posts per incident.
    public static let cap = 8
    /// The outbox kind of the fold row.
    public static let kind = "fold"

    static func post(_ db: Database, _ notice: any OutboxMessage, kind: String, incidentID: IncidentID, now: Date)
        throws
    {
        let posted =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM outbox WHERE incident_id = ? AND kind = ?",
                arguments: [incidentID.rawValue, kind]
            ) ?? 0
        if posted < cap {
            _ = try OutboxRepository.insert(db, notice, kind: kind, incidentID: incidentID, now: now)
            return
        }
        let folded =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM outbox WHERE incident_id = ? AND kind = ?",
                arguments: [incidentID.rawValue, Self.kind]
            ) ?? 0
        guard folded == 0 else { return }
        _ = try OutboxRepository.insert(db, FoldRow(), kind: Self.kind, incidentID: incidentID, now: now)
    }

    private struct FoldRow: OutboxMessage {
        var body: [UInt8] { Array(#"{"render":"fold"}"#.utf8) }
    }
}
