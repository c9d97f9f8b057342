import Foundation
import GRDB

extension MonitorStore {
    /// What waits in the outbox and what was parked (`zumik_monitor_outbox_*`), in one read.
    public func outboxBacklog() throws -> OutboxBacklog {
        try read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT
                        COUNT(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending,
                        MIN(created_at) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS oldest,
                        COUNT(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NOT NULL) AS parked
                    FROM outbox
                    """
            )
            let oldest: Double? = row?["oldest"]
            return OutboxBacklog(
                pending: row?["pending"] ?? 0,
                oldestPending: oldest.map(Date.init(timeIntervalSince1970:)),
                parked: row?["parked"] ?? 0
            )
        }
    }
}
