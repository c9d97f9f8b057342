public import ActionKit
public import Foundation
import GRDB

/// Remediation leases on SQLite: the single instance takes them like any member of a fleet.
extension MonitorStore {
    public func acquireLease(incidentID: IncidentID, holder: String, now: Date, duration: TimeInterval) async throws
        -> RemediationLease?
    {
        try write { db in try LeaseRepository.acquire(db, incidentID, holder: holder, now: now, duration: duration) }
    }

    public func appendIncidentEvent(
        incidentID: IncidentID,
        kind: String,
        payload: JSONValue,
        at: Date,
        notice: (any OutboxMessage)?,
        noticeKind: String,
        fence lease: RemediationLease,
        duration: TimeInterval
    ) async throws {
        // `write` names its errors as the store's; a lost lease is not one (the fence wrote nothing).
        var lost: LeaseLost?
        try write { db in
            do {
                try LeaseRepository.fence(db, lease, at: at, duration: duration)
            } catch let error as LeaseLost {
                lost = error
                return
            }
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
        if let lost { throw lost }
    }

    public func completeLease(_ lease: RemediationLease) async throws {
        try write { db in try LeaseRepository.complete(db, lease) }
    }
}
