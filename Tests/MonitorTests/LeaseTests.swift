import ActionKit
import Foundation
import Monitor
import Probing
import Testing

/// One remediator per incident, on both backends: a lease with an expiry and a fencing token that every journal
/// write before an action is checked against.
@Suite struct LeaseTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func openIncident(_ storage: any MonitorStorage) async throws -> IncidentID {
        let render: @Sendable (AlertEvent) -> any OutboxMessage = { _ in PlainMessage(text: "down") }
        for i in 0..<2 {
            let result = ProbeResult(property: "api", url: "https://api.example/", at: t0, health: .down)
            _ = try await storage.record(result, policy: policy, now: t0 + Double(i), message: render)
        }
        return try #require(try await storage.openIncident(for: "api")).id
    }

    func fencedAppend(_ storage: any MonitorStorage, _ lease: RemediationLease, at: Date) async throws {
        try await storage.appendIncidentEvent(
            incidentID: lease.incidentID,
            kind: "remediation.action",
            payload: .object(["by": .string(lease.holder)]),
            at: at,
            notice: PlainMessage(text: "\(lease.holder) acts"),
            noticeKind: "remediation",
            fence: lease,
            duration: 30
        )
    }

    @Test(arguments: StorageBackend.available)
    func aLeaseIsHeldByOneAndTakenOverWithTheNextTokenAfterItExpires(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let id = try await openIncident(storage)
        let first = try #require(try await storage.acquireLease(incidentID: id, holder: "a", now: t0, duration: 30))
        #expect(first.token == 1 && first.expiresAt == t0 + 30)
        #expect(try await storage.acquireLease(incidentID: id, holder: "b", now: t0 + 29, duration: 30) == nil)
        #expect(try await storage.acquireLease(incidentID: id, holder: "a", now: t0 + 10, duration: 30)?.token == 1)
        // a renewed until t0 + 40; b takes over only after that.
        #expect(try await storage.acquireLease(incidentID: id, holder: "b", now: t0 + 39, duration: 30) == nil)
        let second = try #require(
            try await storage.acquireLease(incidentID: id, holder: "b", now: t0 + 40, duration: 30)
        )
        #expect(second.token == 2)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aTakenOverHolderCannotWriteTheEntryBeforeItsNextAction(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let id = try await openIncident(storage)
        let stale = try #require(try await storage.acquireLease(incidentID: id, holder: "a", now: t0, duration: 30))
        try await fencedAppend(storage, stale, at: t0 + 5)
        let current = try #require(
            try await storage.acquireLease(incidentID: id, holder: "b", now: t0 + 36, duration: 30)
        )
        let events = try await storage.incidentEvents(incidentID: id).count
        let rows = try await storage.allOutbox().count
        await #expect(throws: LeaseLost.self) { try await fencedAppend(storage, stale, at: t0 + 37) }
        #expect(try await storage.incidentEvents(incidentID: id).count == events)
        #expect(try await storage.allOutbox().count == rows)
        try await fencedAppend(storage, current, at: t0 + 38)
        // The write renewed b's lease: a cannot take it back at b's first expiry.
        #expect(try await storage.acquireLease(incidentID: id, holder: "a", now: t0 + 67, duration: 30) == nil)
        #expect(
            try await storage.incidentEvents(incidentID: id).filter { $0.kind == "remediation.action" }.map(\.payload)
                == [.object(["by": .string("a")]), .object(["by": .string("b")])]
        )
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func aCompletedRemediationIsNeverTakenOver(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let id = try await openIncident(storage)
        let lease = try #require(try await storage.acquireLease(incidentID: id, holder: "a", now: t0, duration: 30))
        try await storage.completeLease(lease)
        #expect(try await storage.acquireLease(incidentID: id, holder: "b", now: t0 + 300, duration: 30) == nil)
        #expect(try await storage.acquireLease(incidentID: id, holder: "a", now: t0 + 300, duration: 30) == nil)
        await #expect(throws: LeaseLost.self) { try await fencedAppend(storage, lease, at: t0 + 1) }
        withExtendedLifetime(keep) {}
    }
}
