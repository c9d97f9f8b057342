import AgentHost
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The runner on its own: spawning, capping, and what happens to a command's group.
@Suite struct ActionRunnerTests {
    let runner = ActionRunner()

    func limits(timeout: Duration = .seconds(10), grace: Duration = .seconds(1), cap: Int = 4096) -> CommandLimits {
        CommandLimits(timeout: timeout, killGrace: grace, maxOutputBytes: cap)
    }

    @Test func missingOrRelativeExecutableIsASpawnFailure() async {
        let missing = await runner.run(argv: ["/nonexistent/zumik-tool", "x"], limits: limits())
        #expect(missing.outcome == "spawn_failed")
        #expect(missing.spawnError?.contains("/nonexistent/zumik-tool") == true)
        let relative = await runner.run(argv: ["sh", "-c", "true"], limits: limits())
        #expect(relative.outcome == "spawn_failed")
        let empty = await runner.run(argv: [], limits: limits())
        #expect(empty.outcome == "spawn_failed")
    }

    @Test func keepsTheTailOfEachStreamAndCountsEverything() async {
        let result = await runner.run(
            argv: [
                "/bin/sh", "-c", "head -c 300000 /dev/zero; printf END; head -c 5000 /dev/zero >&2; printf ERR >&2",
            ],
            limits: limits(cap: 10)
        )
        #expect(result.outcome == "succeeded")
        #expect(result.stdoutBytes == 300_003)
        #expect(result.stderrBytes == 5003)
        #expect(result.stdoutTail == Array(repeating: 0, count: 7) + Array("END".utf8))
        #expect(result.stderrTail == Array(repeating: 0, count: 7) + Array("ERR".utf8))
        #expect(result.truncated)
    }

    @Test func aBackgroundChildHoldingTheOutputIsKilledAtTheDeadline() async throws {
        let result = await runner.run(
            argv: ["/bin/sh", "-c", "sleep 100 & echo $$"],
            limits: limits(timeout: .seconds(1))
        )
        // The command itself exited 0; its leftover child went with the group at the deadline.
        #expect(result.exitCode == 0)
        #expect(!result.timedOut)
        let pid = try #require(
            Int32(String(decoding: result.stdoutTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        #expect(processesInGroup(pid).isEmpty)
    }

    @Test func exitCodesAndSignalsAreReported() async {
        let failed = await runner.run(argv: ["/bin/sh", "-c", "exit 7"], limits: limits())
        #expect(failed.outcome == "failed")
        #expect(failed.exitCode == 7)
        let killed = await runner.run(argv: ["/bin/sh", "-c", "kill -9 $$"], limits: limits())
        #expect(killed.outcome == "killed")
        #expect(killed.signal == 9)
        #expect(killed.exitCode == nil)
    }
}
