import AgentHost
import Foundation
import Testing
import ZumikTestSupport

/// Issue 12, finding 10: the audit stored raw bidi control characters from `reason`.
@Suite struct RequestTextTests {
    @Test func controlAndBidiCharactersAreNeitherStoredNorEchoed() async throws {
        try await InProcessAgent.with(actions: [shellAction("noop", "true")]) { agent in
            let hostile = #"{"reason":"restart \u202Egnp.exe\u2066 now\u0007\u001b[2J","incident":"inc\u200F-7"}"#
            let run = try await RawHTTP.post(port: agent.port, "/v1/actions/noop/run", token: testToken, json: hostile)
            #expect(run.status == 200)
            let records = try agent.auditRecords()
            #expect(records.count == 2)
            for record in records {
                #expect(record["reason"] as? String == "restart gnp.exe now[2J")
                #expect(record["incident"] as? String == "inc-7")
            }
            let raw = try String(contentsOfFile: agent.auditPath, encoding: .utf8)
            #expect(!raw.contains("\\u202e") && !raw.contains("\u{202E}"))

            // Echoed in an error message: cleaned too.
            let badKey = try await RawHTTP.post(
                port: agent.port,
                "/v1/actions/noop/run",
                token: testToken,
                json: #"{"re\u202Eason":"x"}"#
            )
            #expect(badKey.status == 400)
            #expect(badKey.errorMessage == "request body: unknown key 'reason'")
        }
    }
}
