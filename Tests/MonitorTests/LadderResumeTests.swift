import ActionKit
import Foundation
import Monitor
import Remediation
import Testing

/// A ladder resumed from the journal (a restart, or another location taking the incident over) repeats
/// nothing already started: neither a remediation nor the read-only diagnostics (issue 13: the takeover in
/// FleetNetnsTests read them a second time).
@Suite struct LadderResumeTests {
    @Test("a resumed ladder does not read its diagnostics again")
    func resumedLadderSkipsDiagnosticsAlreadyRead() async throws {
        let world = FakeWorld(healingAction: "recreate_api_core")
        let store = try await TestJournal()
        defer { store.remove() }
        // The first holder read the diagnostic, ran restart_api_core, and died during its settle time.
        let steps: [RemediationJournalEntry] = [
            .init(incidentID: testIncident.id, kind: .started, result: "started (ladder path)"),
            .init(
                incidentID: testIncident.id,
                kind: .action,
                path: .ladder,
                tool: "inspect_api_core",
                actionKind: .diagnostic,
                reason: "ladder"
            ),
            .init(
                incidentID: testIncident.id,
                kind: .actionResult,
                path: .ladder,
                tool: "inspect_api_core",
                actionKind: .diagnostic,
                result: "succeeded"
            ),
            .init(
                incidentID: testIncident.id,
                kind: .action,
                path: .ladder,
                tool: "restart_api_core",
                actionKind: .remediation,
                reason: "ladder",
                roundCost: 1
            ),
        ]
        for step in steps { try await store.journal.append(step, notice: nil) }
        let outcome = try await world.serveAgent { agentURL in
            await makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: try store.reopened(),
                world: world,
                clock: ImmediateClock(),
                maxRounds: 2
            )
            .respond(to: testIncident)
        }
        #expect(outcome == .healed(path: .ladder, rounds: 2))
        #expect(world.runs == ["recreate_api_core"])
    }
}
