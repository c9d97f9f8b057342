import Foundation
import Monitor
import Prometheus
import Synchronization
import Testing
import ZumikTestSupport

/// Issue 16: the monitor tells how long a probe cycle takes as it runs (`zumik_monitor_cycle_duration_seconds`
/// and a `probe cycle done` log line), so the cycle can be measured inside a running monitor.
@Suite struct ProbeCycleTests {
    @Test func cycleEndsWithItsLastRecordedProbe() {
        let start = Date(timeIntervalSince1970: 1_000)
        let cycle = ProbeCycle(started: start, properties: 3)
        #expect(cycle.recorded(at: start.addingTimeInterval(0.1)) == nil)
        #expect(cycle.recorded(at: start.addingTimeInterval(0.4)) == nil)
        #expect(cycle.recorded(at: start.addingTimeInterval(0.25)) == 0.25)
    }

    /// Three properties, one of which answers after 300 ms: one cycle of three, timed until the slow one is
    /// recorded, in the log and in the histogram.
    @Test func runningMonitorReportsEachCycleOnceWithItsSlowestProbe() async throws {
        let dir = try TempDir()
        let server = try LoopbackServer { request in
            .respond(status: 200, body: "ok", delay: request.target.hasPrefix("/slow") ? 0.3 : 0)
        }
        defer { server.stop() }
        let config = MonitorConfig(
            interval: .seconds(3600),
            storePath: dir.dbPath,
            properties: ["a", "b", "slow"].map {
                PropertyConfig(name: $0, url: "\(server.baseURL)/\($0)", timeout: .seconds(5))
            }
        )
        let logs = CapturedLogs()
        let runtime = try MonitorRuntime(config: config, logger: logs.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { logs.text.contains("probe cycle done") })
            #expect(await waitFor { try runtime.store.state(of: "slow")?.lastResult != nil })
            group.cancelAll()
        }
        let lines = logs.lines.withLock { $0 }.filter { $0.contains("probe cycle done") }
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        #expect(line.hasPrefix("info "))
        #expect(line.contains("cycle.properties=3"), "\(line)")
        let field = try #require(line.split(separator: " ").first { $0.hasPrefix("cycle.duration_ms=") })
        let ms = try #require(Double(field.dropFirst("cycle.duration_ms=".count)))
        #expect(ms >= 300, "\(line)")

        let exposition = String(decoding: runtime.registry.emitToBuffer(), as: UTF8.self)
        #expect(exposition.contains("zumik_monitor_cycle_duration_seconds_count 1"), "\(exposition)")
        let sumLine = try #require(
            exposition.split(separator: "\n").first { $0.hasPrefix("zumik_monitor_cycle_duration_seconds_sum ") }
        )
        let sum = try #require(Double(sumLine.split(separator: " ")[1]))
        #expect(sum >= 0.3)
    }
}
