import ActionKit
import Foundation
import Testing
import ZumikTestSupport

@testable import Monitor
@testable import Remediation

/// The leash's limits mean what they say: 0 rounds is observe-only, and the reason's limit is the agent's.
@Suite struct LeashFixTests {
    @Test("MAX_REMEDIATION_ROUNDS=0 runs nothing, asks no model and pages once")
    func zeroRoundsIsObserveOnly() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        let model = FakeOpenAI(script: [.call("restart_api_core", reason: "restart it")])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, model: model, journal: store.journal, maxRounds: 0)
        guard case .paged = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        #expect(world.runs == [])
        #expect(model.received.isEmpty)
        #expect(try store.notices().filter { $0.mention != nil }.count == 1)
    }

    @Test("a reason of accented letters built from two scalars is cut to the agent's limit in scalars")
    func reasonLimitCountsScalars() throws {
        let reason = String(repeating: "e\u{301}", count: 500)  // 500 characters, 1,000 scalars
        let parsed = try RemediationTools.reason(fromArguments: #"{"reason": "\#(reason)"}"#).get()
        #expect(parsed.unicodeScalars.count <= AgentAPI.RunRequest.maxReasonScalars)
        #expect(RemediationTools.maxReasonLength == AgentAPI.RunRequest.maxReasonScalars)
    }
}
