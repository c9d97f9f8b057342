import ActionKit
import Foundation
import Monitor
import Probing
import Remediation
import Synchronization
import Testing
import ZumikTestSupport

/// The monitor remediates an incident only under its lease: while another location holds it nothing runs
/// here; once it expires this location takes over (the next token) and resumes; a stale holder's journal
/// write fails before its action.
@Suite struct RemediationTakeoverTests {
    @Test func anIncidentHeldByALiveRemediatorIsLeftAloneAndTakenOverWhenItsLeaseExpires() async throws {
        let dir = try TempDir()
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
        let store = try MonitorStore(path: dir.dbPath)
        let t0 = Date()
        for i in 0..<2 {
            let result = ProbeResult(property: "api", url: api.server.baseURL, at: t0, health: .down, status: 500)
            _ = try await store.record(
                result,
                policy: Debounce.Policy(),
                now: t0.addingTimeInterval(Double(i)),
                message: AlertFormatter.message(for:)
            )
        }
        let incident = try #require(try store.openIncident(for: "api"))
        // Another location is remediating: its lease runs 2 s more.
        let held = try #require(
            try await store.acquireLease(incidentID: incident.id, holder: "fra-1", now: Date(), duration: 2)
        )
        var config = MonitorConfig(
            interval: .milliseconds(200),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, host: "default", service: "api-core")],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")]
        )
        config.store.location = "ams-2"
        config.store.remediationLease = .milliseconds(300)
        let responder = RecordingResponder()
        let runtime = try MonitorRuntime(config: config, logger: quietLogger, responder: responder) { _ in }
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor(.seconds(30)) { responder.calls.withLock { $0.count } >= 1 })
            group.cancelAll()
        }
        // Not before fra-1's lease ran out.
        #expect(ContinuousClock.now - started >= .milliseconds(1500))
        let calls = responder.calls.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.resumed == true)
        #expect(calls.first?.lease?.holder == "ams-2")
        #expect(calls.first?.lease?.token == held.token + 1)
        // fra-1 comes back: its next journal entry is refused, so it never sends the action.
        let stale = StorageJournal(store: store, outbox: runtime.outbox, lease: held, leaseDuration: 2)
        await #expect(throws: LeaseLost.self) {
            try await stale.append(
                RemediationJournalEntry(incidentID: incident.id, at: Date(), kind: .action, tool: "restart_api_core"),
                notice: nil
            )
        }
        // The completed remediation is not offered again.
        #expect(
            try await store.acquireLease(incidentID: incident.id, holder: "fra-1", now: Date() + 60, duration: 2) == nil
        )
    }
}
