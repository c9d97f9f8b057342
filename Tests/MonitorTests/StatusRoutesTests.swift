import ActionKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// The `/v1/` status routes, the pages and the badges, on a real store with a seeded history.
@Suite struct StatusRoutesTests {
    static let token = "control-token-0123456789abcdef"

    struct Fixture {
        let dir: TempDir
        let runtime: MonitorRuntime
        let incident: Incident
        var router: Router<BasicRequestContext> {
            ControlAPI.router(
                monitor: runtime.monitor,
                token: runtime.monitor.config.secrets.controlToken,
                registry: runtime.registry
            )
        }
    }

    /// Two properties; `api` has 90 days of daily history, one closed incident with a remediation and a page, and
    /// a few raw samples; `hidden` is not on the public page.
    static func fixture(isPublic: Bool) async throws -> Fixture {
        let dir = try TempDir()
        var config = MonitorConfig(
            storePath: dir.dbPath,
            properties: [
                PropertyConfig(name: "api", url: "http://127.0.0.1:1/healthz"),
                PropertyConfig(name: "hidden", url: "http://127.0.0.1:1/other"),
            ],
            secrets: Secrets(controlToken: Secret(token))
        )
        config.statusPage = StatusPageSettings(title: "Zumik <status>", isPublic: isPublic, properties: ["api"])
        let runtime = try MonitorRuntime(
            config: config,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let store = runtime.store
        let today = HistoryBucket.start(of: Date(), .day)
        _ = try await HistorySeed.fill(store, properties: 1, days: 90, hourlyDays: 2, end: today, names: { _ in "api" })
        _ = try await HistorySeed.fill(
            store,
            properties: 1,
            days: 3,
            hourlyDays: 1,
            end: today,
            names: { _ in "hidden" }
        )
        let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)
        let t0 = Date().addingTimeInterval(-600)
        func probe(_ health: Health, _ at: Date) -> ProbeResult {
            ProbeResult(
                property: "api",
                url: "http://127.0.0.1:1/healthz",
                at: at,
                health: health,
                reasons: health == .down ? ["connection refused"] : []
            )
        }
        let render: @Sendable (AlertEvent) -> any OutboxMessage = { _ in PlainMessage(text: "alert") }
        _ = try await store.record(probe(.down, t0), policy: policy, now: t0, message: render)
        let opened = try await store.record(probe(.down, t0 + 10), policy: policy, now: t0 + 10, message: render)
        let incident = try #require(opened.incident)
        try await store.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation.action",
            payload: .object([
                "path": .string("ladder"), "tool": .string("restart_api_core"), "action_kind": .string("remediation"),
                "reason": .string("ladder rank 1"),
            ]),
            at: t0 + 20,
            notice: nil,
            noticeKind: "remediation"
        )
        try await store.appendIncidentEvent(
            incidentID: incident.id,
            kind: "remediation.actionResult",
            payload: .object([
                "tool": .string("restart_api_core"), "audit_id": .string("aud-42"), "result": .string("exit 0"),
            ]),
            at: t0 + 25,
            notice: nil,
            noticeKind: "remediation"
        )
        _ = try await store.pageOnce(
            incidentID: incident.id,
            kind: "remediation.paged",
            payload: .object(["reason": .string("rounds spent")]),
            at: t0 + 30,
            page: PlainMessage(text: "page")
        )
        for (i, health) in [Health.down, .down, .healthy].enumerated() {
            try await store.appendSample(
                HistorySample(
                    property: "api",
                    at: t0 + Double(i) * 10,
                    health: health,
                    status: health == .healthy ? 200 : nil,
                    timings: health == .healthy
                        ? PhaseTimings(dnsMs: 1, connectMs: 2, firstByteMs: 9, totalMs: 10) : nil
                )
            )
        }
        _ = try await store.record(probe(.healthy, t0 + 40), policy: policy, now: t0 + 40, message: render)
        return Fixture(dir: dir, runtime: runtime, incident: incident)
    }

    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)"] }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func theSummaryHoldsWhatTheStoreHolds() async throws {
        let f = try await Self.fixture(isPublic: true)
        let now = Date()
        let today = HistoryBucket.start(of: now, .day)
        let days = try await f.runtime.store.buckets(
            .day,
            property: "api",
            from: today - 89 * 86400,
            to: now,
            now: now,
            spanCap: 180,
            latency: true
        )
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(uri: "/v1/status-page", method: .get) { response in
                #expect(response.status == .ok)
                let body = try json(response)
                #expect(body["title"] as? String == "Zumik <status>")
                let properties = try #require(body["properties"] as? [[String: Any]])
                #expect(properties.map { $0["name"] as? String } == ["api"], "only the public list")
                let api = properties[0]
                #expect(api["state"] as? String == "healthy")
                let uptime = try #require(api["uptime"] as? [String: Double])
                #expect(abs((uptime["90d"] ?? 0) - (Monitor.uptime(of: days) ?? 1)) < 1e-12)
                let cells = try #require(api["days"] as? [[String: Any]])
                #expect(cells.count == 90)
                for (cell, bucket) in zip(cells.suffix(days.count), days) {
                    #expect(cell["worst"] as? String == bucket.worst?.rawValue)
                    #expect(cell["downtime_minutes"] as? Int == Int((bucket.downtimeSeconds / 60).rounded(.up)))
                }
                #expect(cells.contains { $0["worst"] as? String == "down" })
                let incidents = try #require(body["incidents"] as? [[String: Any]])
                #expect(incidents.count == 1)
                #expect(incidents[0]["duration_seconds"] as? Double == 30)
                #expect(incidents[0]["paged"] as? Bool == true)
            }
        }
        withExtendedLifetime(f.dir) {}
    }

    @Test func theTimelineTellsTheWholeStory() async throws {
        let f = try await Self.fixture(isPublic: false)
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(
                uri: "/v1/incidents/\(f.incident.id.rawValue)/timeline",
                method: .get,
                headers: auth
            ) { response in
                #expect(response.status == .ok)
                let entries = try #require(try json(response)["entries"] as? [[String: Any]])
                let kinds = entries.compactMap { $0["kind"] as? String }
                #expect(kinds.first == "detection")
                #expect(
                    kinds.contains("action") && kinds.contains("result") && kinds.contains("page")
                        && kinds.contains("alert")
                )
                let recovery = try #require(kinds.firstIndex(of: "recovery"))
                #expect(try #require(kinds.firstIndex(of: "page")) < recovery)
                let action = try #require(entries.first { $0["kind"] as? String == "action" })
                #expect(action["reason"] as? String == "ladder rank 1" && action["path"] as? String == "ladder")
                #expect(entries.contains { $0["audit_id"] as? String == "aud-42" })
            }
            try await client.execute(uri: "/v1/incidents/999/timeline", method: .get, headers: auth) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/incidents/x/timeline", method: .get, headers: auth) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/properties/api/latency?hours=48", method: .get, headers: auth) {
                response in
                #expect(response.status == .ok)
                let hours = try #require(try json(response)["hours"] as? [[String: Any]])
                #expect(!hours.isEmpty)
                // The probes are ten minutes old: in the first minutes of an hour they sit in the hour before.
                let probed = try #require(hours.last { ($0["probes"] as? Int ?? 0) > 0 })
                let phases = try #require(probed["phases"] as? [String: [String: Double]])
                #expect(Set(phases.keys).isSuperset(of: ["dns", "connect", "first_byte", "total"]))
                #expect(phases["total"].map { $0["p50"]! <= $0["p95"]! } == true)
            }
            try await client.execute(uri: "/v1/properties/api/latency?hours=0", method: .get, headers: auth) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/properties/nope/latency", method: .get, headers: auth) {
                #expect($0.status == .notFound)
            }
        }
        withExtendedLifetime(f.dir) {}
    }

    @Test(arguments: [false, true])
    func thePublicPageNeedsTheTokenUnlessPublicTheOperatorViewAlways(isPublic: Bool) async throws {
        let f = try await Self.fixture(isPublic: isPublic)
        try await Application(router: f.router).test(.router) { client in
            for uri in ["/status", "/v1/status-page", "/badge/api/state.svg", "/badge/api/uptime.svg"] {
                try await client.execute(uri: uri, method: .get) {
                    #expect($0.status == (isPublic ? .ok : .unauthorized), "\(uri)")
                }
                try await client.execute(uri: uri, method: .get, headers: auth) { #expect($0.status == .ok, "\(uri)") }
            }
            for uri in [
                "/status/operator", "/v1/overview", "/v1/silences", "/v1/properties/api/latency",
                "/v1/incidents/1/timeline",
            ] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized, "\(uri)") }
            }
            try await client.execute(uri: "/badge/hidden/state.svg", method: .get, headers: auth) {
                #expect($0.status == .notFound)
            }
        }
        withExtendedLifetime(f.dir) {}
    }

    @Test func pagesAreSelfContainedAccessibleAndEscaped() async throws {
        let f = try await Self.fixture(isPublic: true)
        try await Application(router: f.router).test(.router) { client in
            for uri in ["/status", "/status/operator"] {
                try await client.execute(uri: uri, method: .get, headers: auth) { response in
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let html = String(buffer: response.body)
                    #expect(html.contains("<title>Zumik &lt;status&gt;"), "the title is escaped")
                    #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http"))
                    #expect(html.contains("<main>") && html.contains("<header>") && html.contains("scope=\"col\""))
                    #expect(html.contains("prefers-color-scheme:dark"))
                    #expect(html.contains("aria-label=\"") && html.contains("Operational"))
                }
            }
            try await client.execute(uri: "/status", method: .get) { response in
                let cells = String(buffer: response.body).components(separatedBy: "<li class=\"c-").dropFirst()
                #expect(cells.count == 90)
                #expect(cells.allSatisfy { $0.contains("aria-label=\"") && $0.contains("title=\"") })
            }
            try await client.execute(uri: "/status/operator", method: .get, headers: auth) { response in
                let html = String(buffer: response.body)
                #expect(
                    html.contains("aud-42") && html.contains("ladder rank 1")
                        && html.contains("Paged the on-call human")
                )
                #expect(html.contains("data-property=\"hidden\""), "the operator sees every property")
            }
            try await client.execute(uri: "/badge/api/state.svg", method: .get) { response in
                #expect(response.headers[.contentType] == "image/svg+xml; charset=utf-8")
                let svg = String(buffer: response.body)
                #expect(svg.hasPrefix("<svg") && svg.contains("operational"))
            }
            try await client.execute(uri: "/badge/api/uptime.svg", method: .get) { response in
                #expect(String(buffer: response.body).contains("% (30d)"))
            }
        }
        withExtendedLifetime(f.dir) {}
    }
}
