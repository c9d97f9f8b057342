import ActionKit
import Foundation
import Monitor
import Probing
import Testing

/// The `MonitorStorage` contract for living incident messages, through the protocol only.
@Suite struct IncidentMessageContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    func probe(_ health: Health, _ at: Date) -> ProbeResult {
        ProbeResult(property: "api", url: "https://api.example/healthz", at: at, health: health)
    }

    /// Opens an incident whose transitions ask for the living message.
    func openLiving(_ storage: any MonitorStorage) async throws -> (Incident, Int64) {
        let living: @Sendable (AlertEvent) -> any OutboxMessage = { _ in IncidentMessageRender() }
        _ = try await storage.record(probe(.down, t0), policy: policy, now: t0, message: living)
        let opened = try await storage.record(probe(.down, t0 + 1), policy: policy, now: t0 + 1, message: living)
        return (try #require(opened.incident), try #require(opened.outboxID))
    }

    @Test(arguments: StorageBackend.available)
    func stepsCoalesceIntoOnePendingRenderRow(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let (incident, rowID) = try await openLiving(storage)
        #expect(try await storage.incidentMessage(incidentID: incident.id)?.messageID == nil)
        for step in 0..<3 {
            try await storage.appendIncidentEvent(
                incidentID: incident.id,
                kind: "remediation.note",
                payload: .object([:]),
                at: t0 + 2,
                notice: PlainMessage(text: "step \(step)"),
                noticeKind: "remediation"
            )
        }
        let rows = try await storage.allOutbox()
        #expect(rows.map(\.id) == [rowID])
        #expect(rows.map(\.kind) == ["incident"])
        let events = try await storage.incidentEvents(incidentID: incident.id)
        #expect(events.compactMap(\.notice) == ["step 0", "step 1", "step 2"])
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func sentKeepsTheIdAndMarksDeliveredOnlyWhatWasRendered(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        let (incident, rowID) = try await openLiving(storage)
        let stale = try #require(try await storage.allOutbox().first?.payload)
        // A step lands while the create is in flight: the row now asks for a newer rendering.
        try await storage.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation.note",
            payload: .object([:]),
            at: t0 + 2,
            notice: PlainMessage(text: "late step"),
            noticeKind: "remediation"
        )
        let delivered = try await storage.incidentMessageSent(
            outboxID: rowID,
            rendered: stale,
            incidentID: incident.id,
            messageID: "1400000000000000001",
            at: t0 + 3
        )
        #expect(!delivered)
        #expect(try await storage.incidentMessage(incidentID: incident.id)?.messageID == "1400000000000000001")
        let row = try #require(try await storage.allOutbox().first)
        #expect(row.deliveredAt == nil)
        #expect(
            try await storage.incidentMessageSent(
                outboxID: rowID,
                rendered: row.payload,
                incidentID: incident.id,
                messageID: nil,
                at: t0 + 4
            )
        )
        #expect(try await storage.allOutbox().allSatisfy { $0.deliveredAt != nil })
        // A deleted message is forgotten (only that id), so the next send creates a new one.
        try await storage.forgetIncidentMessage(incidentID: incident.id, messageID: "999")
        #expect(try await storage.incidentMessage(incidentID: incident.id)?.messageID == "1400000000000000001")
        try await storage.forgetIncidentMessage(incidentID: incident.id, messageID: "1400000000000000001")
        #expect(try await storage.incidentMessage(incidentID: incident.id)?.messageID == nil)
        withExtendedLifetime(keep) {}
    }
}
