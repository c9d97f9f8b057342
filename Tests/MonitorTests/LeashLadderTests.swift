import ActionKit
import Foundation
import Testing

@testable import Remediation

/// The pure halves of the engine: the leash judges a model's tool call, the ladder plans without one.
@Suite struct LeashLadderTests {
    let offered = RemediationTools.offered(FakeWorld.catalog, service: "api-core")

    func call(_ name: String, arguments: String = #"{"reason":"api-core is down"}"#, type: String = "function")
        throws -> OpenAIChat.ResponseToolCall
    {
        let function = try JSONSerialization.data(withJSONObject: ["name": name, "arguments": arguments])
        let json = #"{"id":"call_1","type":"\#(type)","function":\#(String(decoding: function, as: UTF8.self))}"#
        return try JSONDecoder().decode(OpenAIChat.ResponseToolCall.self, from: Data(json.utf8))
    }

    func judge(_ call: OpenAIChat.ResponseToolCall, index: Int = 0, roundsLeft: Int = 3, available: [String]? = nil)
        -> Leash.Decision
    {
        let pool = available.map { ids in offered.filter { ids.contains($0.id) } } ?? offered
        return Leash.judge(call, index: index, roundsLeft: roundsLeft, maxRounds: 3, available: pool, offered: offered)
    }

    @Test func anOfferedActionWithAReasonRuns() throws {
        guard case .run(let action, let reason) = judge(try call("restart_api_core")) else {
            Issue.record("not run")
            return
        }
        #expect(action.id == "restart_api_core")
        #expect(reason == "api-core is down")
    }

    @Test func theSecondCallOfAReplyAndCallsPastTheBudgetAreRefused() throws {
        guard case .refuse(_, let why, _) = judge(try call("restart_api_core"), index: 1) else {
            Issue.record("second call not refused")
            return
        }
        #expect(why == "more than one tool call in one turn (`restart_api_core`)")
        guard case .refuse(_, let late, _) = judge(try call("restart_api_core"), roundsLeft: 0) else {
            Issue.record("call past the budget not refused")
            return
        }
        #expect(late == "a call after the round budget (`restart_api_core`)")
    }

    @Test func unknownAndAlreadyRunActionsAreRefusedWithDifferentReasons() throws {
        guard case .refuse(_, let unknown, let message) = judge(try call("rm_rf")) else {
            Issue.record("unknown tool not refused")
            return
        }
        #expect(unknown == "`rm_rf` is not in the offered catalog")
        #expect(message.hasSuffix("Nothing ran. 3 of 3 rounds left."))
        guard
            case .refuse(_, let ran, _) = judge(try call("restart_api_core"), available: ["recreate_api_core"])
        else {
            Issue.record("repeated remediation not refused")
            return
        }
        #expect(ran == "`restart_api_core` already ran in this incident and is not offered again")
    }

    @Test func malformedArgumentsForAKnownToolAreRefusedAndEscalationPages() throws {
        guard case .refuse(let tool, let why, _) = judge(try call("restart_api_core", arguments: "{}")) else {
            Issue.record("malformed arguments not refused")
            return
        }
        #expect(tool == "restart_api_core")
        #expect(why.hasPrefix("malformed arguments for `restart_api_core`"))
        #expect(judge(try call(RemediationTools.escalateToolName)) == .escalate(reason: "api-core is down"))
    }

    @Test func theLadderReadsDiagnosticsThenTriesRemediationsByRankSkippingTriedOnes() {
        let plan = Ladder(offered: offered, tried: ["restart_api_core"])
        #expect(plan.diagnostics.map(\.id) == ["inspect_api_core"])
        #expect(plan.remediations.map(\.id) == ["recreate_api_core", "restart_all"])
        #expect(Ladder(offered: offered, tried: []).remediations.first?.id == "restart_api_core")
    }
}
