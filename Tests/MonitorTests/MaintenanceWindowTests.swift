import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Issue 15: scheduled maintenance windows (recurring, in a time zone; one-off) hold alerts and remediation,
/// show in the status, and announce a state that changed once they close.
@Suite struct MaintenanceWindowTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func recurringWindowsFollowTheirTimeZoneDaysAndMidnight() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                properties:
                  - {name: api, url: "http://127.0.0.1:1/"}
                maintenance:
                  - {name: nightly, start: "23:30", duration: 1h, days: [sun], time_zone: America/New_York}
                  - {name: move, from: "2026-12-01T22:00:00Z", until: "2026-12-02T01:00:00Z", properties: [api]}
                """,
            file: "monitor.yaml",
            environment: [:]
        )
        let nightly = config.maintenance[0]
        // Sunday 2026-11-29 23:45 in New York is 04:45 UTC on Monday; the window closes at 00:30 local.
        #expect(nightly.openUntil(at: Self.date("2026-11-30T04:45:00Z")) == Self.date("2026-11-30T05:30:00Z"))
        #expect(nightly.openUntil(at: Self.date("2026-11-30T05:15:00Z")) == Self.date("2026-11-30T05:30:00Z"))
        #expect(nightly.openUntil(at: Self.date("2026-11-30T05:30:00Z")) == nil)
        // The same local time on a Monday is outside the window (Sundays only), and 23:45 UTC is not local.
        #expect(nightly.openUntil(at: Self.date("2026-12-01T04:45:00Z")) == nil)
        #expect(nightly.openUntil(at: Self.date("2026-11-29T23:45:00Z")) == nil)
        let move = config.maintenance[1]
        #expect(move.openUntil(at: Self.date("2026-12-01T23:00:00Z")) == Self.date("2026-12-02T01:00:00Z"))
        #expect(move.openUntil(at: Self.date("2026-12-02T01:00:00Z")) == nil)
        #expect(move.covers("api") && !move.covers("www"))
    }

    @Test func badWindowsNameTheirKey() {
        let errors = configErrors(
            """
            properties:
              - {name: api, url: "http://127.0.0.1:1/"}
            maintenance:
              - {start: "25:00", duration: 1h, time_zone: Mars/Olympus, days: [funday]}
              - {from: "yesterday", until: "2026-12-02T01:00:00Z", properties: [nope]}
              - {start: "02:00"}
            """
        )
        #expect(errors.contains("monitor.yaml: maintenance[0].start: expected HH:MM such as 02:30, got \"25:00\""))
        #expect(
            errors.contains(
                "monitor.yaml: maintenance[0].time_zone: unknown time zone \"Mars/Olympus\" (an IANA name such as Europe/Berlin)"
            )
        )
        #expect(
            errors.contains(
                "monitor.yaml: maintenance[0].days[0]: expected mon, tue, wed, thu, fri, sat or sun, got \"funday\""
            )
        )
        #expect(errors.contains { $0.hasPrefix("monitor.yaml: maintenance[1].from: expected an ISO 8601 time") })
        #expect(errors.contains("monitor.yaml: maintenance[1].properties[0]: no property named \"nope\""))
        #expect(errors.contains("monitor.yaml: maintenance[2].duration: required (e.g. 1h), or give from/until"))
    }

    /// A window holds the alert and the remediation of an outage that starts inside it, the status shows it,
    /// and when it closes the down state is announced once and handed to remediation.
    @Test func aWindowHoldsTheAlertAndTheRemediation() async throws {
        let dir = try TempDir()
        let server = try LoopbackServer { _ in .respond(status: 503, body: "down") }
        defer { server.stop() }
        // 02:10 in Berlin (UTC+1 in December) on a Tuesday, inside the daily 02:00–03:00 window.
        let clock = Mutex(Self.date("2026-12-01T01:10:00Z"))
        var config = MonitorConfig(
            interval: .seconds(60),
            confirmationDelay: nil,
            storePath: dir.dbPath,
            properties: [
                PropertyConfig(
                    name: "api",
                    url: "\(server.baseURL)/healthz",
                    timeout: .seconds(5),
                    host: "default",
                    service: "api-core"
                )
            ],
            hosts: [
                "default": HostConfig(
                    name: "default",
                    urlEnv: "OPS_AGENT_URL",
                    tokenEnv: "OPS_AGENT_TOKEN",
                    url: "http://127.0.0.1:1",
                    token: Secret("agent-token")
                )
            ]
        )
        config.maintenance = [
            MaintenanceWindow(
                name: "nightly",
                schedule: .recurring(
                    weekdays: [],
                    hour: 2,
                    minute: 0,
                    duration: .seconds(3600),
                    timeZone: TimeZone(identifier: "Europe/Berlin")!
                )
            )
        ]
        let store = try MonitorStore(path: dir.dbPath)
        let responder = RecordingResponder()
        let monitor = MonitorService(
            config: config,
            store: store,
            transport: CurlEngine(maxInFlight: 4),
            outbox: AlertOutbox(store: store, signal: WakeSignal()),
            responder: responder,
            logger: quietLogger,
            now: { clock.withLock { $0 } }
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await monitor.run() }
            #expect(await waitFor { try store.state(of: "api")?.lastResult != nil })
            clock.withLock { $0 = $0.addingTimeInterval(61) }  // the next probe confirms the outage
            #expect(await waitFor { try store.state(of: "api")?.health == .down })
            #expect((try? store.allOutbox())?.isEmpty == true, "an alert went out during the window")
            #expect(responder.calls.withLock { $0.isEmpty }, "remediation started during the window")
            let status = try? await monitor.status().properties.first
            #expect(status?.maintenance?.window == "nightly")
            #expect(status?.maintenance?.until == Self.date("2026-12-01T02:00:00Z"))
            #expect(status?.silencedUntil == Self.date("2026-12-01T02:00:00Z"))

            // 03:01 in Berlin: the window has closed; the down state is announced once and remediated.
            clock.withLock { $0 = Self.date("2026-12-01T02:01:00Z") }
            #expect(await waitFor { responder.calls.withLock { $0.count } == 1 })
            let rows = (try? store.allOutbox()) ?? []
            #expect(rows.count == 1)
            #expect(rows.first?.payload.contains("during maintenance") == true)
            let after = try? await monitor.status().properties.first
            #expect(after != nil && after?.maintenance == nil)
            group.cancelAll()
        }
    }
}
