import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Finding 3 of issue 12: a child calling `setsid()` escaped the process-group kill.
@Suite struct RunTreeTests {
    @Test func aTimedOutActionLosesItsSetsidEscapersToo() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let pidFile = dir.file("escaper.pid")
        let action = shellAction(
            "escape",
            "setsid sh -c 'echo $$ > \(pidFile); exec sleep 300' & sleep 300",
            timeoutS: 1
        )
        try await InProcessAgent.with(actions: [action]) { agent in
            let response = try await RawHTTP.post(port: agent.port, "/v1/actions/escape/run", token: testToken)
            #expect(response.status == 200)
            #expect(try response.json()["outcome"] as? String == "timed_out")
            let runID = try #require(response.header("X-Audit-Id"))
            let escaper = try #require(
                pid_t(
                    try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines
                    )
                )
            )
            #expect(!RunMarker.isAlive(escaper), "the setsid escaper was killed")
            #expect(RunMarker.processes(markedWith: [runID]).isEmpty)
            kill(escaper, SIGKILL)
        }
    }
}
