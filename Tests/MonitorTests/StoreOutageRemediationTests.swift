import ActionKit
import Foundation
import Logging
import Monitor
import Probing
import Remediation
import Synchronization
import Testing
import ZumikTestSupport

/// Remediation while PostgreSQL is unreachable: the fenced journal write before an action fails, so the action is
/// never sent; and the run cut short is not marked complete, so the journal resumes it once the database is back
/// (on main the monitor completed the lease of any run that returned, and the incident was never taken up again).
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct StoreOutageRemediationTests {
    /// Loses the database mid-run: stops it, tries the journal entry that precedes an action, starts it again.
    final class OutageResponder: IncidentResponder {
        let server: PostgresServer
        let actionsSent = Mutex(0)
        let journalError = Mutex<String?>(nil)
        let runs = Mutex(0)
        /// Runs that returned (the store answers again by then).
        let finished = Mutex(0)

        init(server: PostgresServer) { self.server = server }

        func incidentOpened(_ context: IncidentContext) async {
            guard
                runs.withLock({
                    $0 += 1; return $0
                }) == 1
            else { return }
            try? server.stop(mode: "fast")
            let journal = StorageJournal(
                store: context.store,
                outbox: context.outbox,
                lease: context.lease,
                leaseDuration: 60
            )
            do {
                try await journal.append(
                    RemediationJournalEntry(incidentID: context.incidentID, at: Date(), kind: .action, tool: "restart"),
                    notice: nil
                )
                actionsSent.withLock { $0 += 1 }
            } catch {
                journalError.withLock { $0 = "\(error)" }
            }
            try? server.start()
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while (try? await context.store.allStates()) == nil, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
            }
            finished.withLock { $0 += 1 }
        }
    }

    @Test func aRunCutShortByTheOutageSendsNoActionAndIsNotMarkedComplete() async throws {
        let own = try PostgresReachabilityTests.OwnServer()
        defer { own.close() }
        let (server, store, health) = (own.server, own.store, own.health)
        let api = try FlakyProperty()
        defer { api.server.stop() }
        api.set(500)
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
        let incident = try #require(try await store.openIncident(for: "api"))
        var config = MonitorConfig(
            interval: .seconds(3600),
            properties: [PropertyConfig(name: "api", url: api.server.baseURL, host: "default", service: "api-core")],
            hosts: ["default": HostConfig(name: "default", urlEnv: "OPS_AGENT_URL", tokenEnv: "OPS_AGENT_TOKEN")]
        )
        config.store.location = "edge-a"
        let responder = OutageResponder(server: server)
        let engine = CurlEngine(maxInFlight: 4)
        let monitor = MonitorService(
            config: config,
            store: store,
            transport: engine,
            outbox: AlertOutbox(store: store, signal: WakeSignal()),
            responder: responder,
            logger: quietLogger,
            storeHealth: health
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await monitor.run() }
            #expect(await waitFor(.seconds(90)) { responder.finished.withLock { $0 } >= 1 && health.isReachable })
            // The monitor's own handling of the returned run, then stop.
            try? await Task.sleep(for: .milliseconds(500))
            group.cancelAll()
        }
        #expect(responder.actionsSent.withLock { $0 } == 0)
        #expect(responder.journalError.withLock { $0 }?.contains("store unreachable") == true)
        #expect(health.outages >= 1)
        #expect(try await store.incidentEvents(incidentID: incident.id).map(\.kind) == ["transition"])
        // Not complete: once the lease expires another location takes the incident over and resumes it.
        let takeover = try await store.acquireLease(
            incidentID: incident.id,
            holder: "edge-b",
            now: Date().addingTimeInterval(600),
            duration: 60
        )
        #expect(takeover?.token == 2)
    }
}
