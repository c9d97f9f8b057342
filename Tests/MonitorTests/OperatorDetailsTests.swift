import Foundation
import Monitor
import Remediation
import Testing
import ZumikTestSupport

/// What an operator sees of the real `zumik-monitor`: console alerts as they happen, the log level asked for,
/// and its shutdown.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct OperatorDetailsTests {
    func config(_ dir: TempDir, url: String) throws -> String {
        let path = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        interval: 1h
        confirmation_delay: 100ms
        store_path: state.sqlite
        control:
          listen: 127.0.0.1:\(try LoopbackServer.freePort())
        properties:
          - name: api
            url: \(url)
            timeout: 5s
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the console sink writes each alert when it is delivered, not at exit (stdout is a file)")
    func consoleAlertIsWrittenAtOnce() async throws {
        let dir = try TempDir()
        let down = try LoopbackServer { _ in .respond(status: 503) }
        defer { down.stop() }
        let log = dir.url.appendingPathComponent("monitor.log").path
        let monitor = try MonitorProcess(
            config: try config(dir, url: "\(down.baseURL)/healthz"),
            environment: ["PATH": "/usr/bin:/bin"],
            log: log
        )
        defer { monitor.terminate() }
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)
        #expect(await waitFor { try store.allOutbox().contains { $0.deliveredAt != nil } })
        #expect(monitor.process.isRunning)
        #expect(monitor.logText.contains("[zumik-monitor alert]"), "\(monitor.logText)")
    }

    @Test("--log-level warn is honoured, the shutdown is logged, and an unknown level is refused")
    func logLevelAndShutdown() async throws {
        let dir = try TempDir()
        let healthy = try LoopbackServer { _ in .respond(status: 200) }
        defer { healthy.stop() }
        let path = try config(dir, url: "\(healthy.baseURL)/healthz")
        let quiet = dir.url.appendingPathComponent("warn.log").path
        let warn = try MonitorProcess(
            config: path,
            environment: ["PATH": "/usr/bin:/bin"],
            log: quiet,
            logLevel: "warn"
        )
        let store = try MonitorStore(path: dir.url.appendingPathComponent("state.sqlite").path)
        #expect(await waitFor { try store.state(of: "api")?.lastResult != nil })
        warn.terminate()
        #expect(!warn.logText.contains("level=info"), "\(warn.logText)")

        let loud = dir.url.appendingPathComponent("info.log").path
        let info = try MonitorProcess(config: path, environment: ["PATH": "/usr/bin:/bin"], log: loud, logLevel: "info")
        #expect(await waitFor { info.logText.contains("control API listening") })
        info.terminate()
        #expect(info.logText.contains("msg=stopped"), "\(info.logText)")

        let (status, output) = try CommandLineTests.run([
            "run", "--config", "/nonexistent.yaml", "--log-level", "bogus",
        ])
        #expect(status != 0)
        #expect(output.contains("bogus") && output.contains("log-level"), "\(output)")
    }
}

/// Log values are plain text, not Swift debug descriptions.
@Suite struct LogValueTests {
    @Test func remediationOutcomeIsPlainText() {
        #expect("\(RemediationOutcome.healed(path: .ladder, rounds: 1))" == "healed (ladder path, 1 round(s))")
        #expect("\(RemediationOutcome.paged(reason: "automation exhausted"))" == "paged: automation exhausted")
    }
}
