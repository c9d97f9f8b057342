import Foundation
import Testing
import ZumikTestSupport

/// `deploy/prometheus` and `deploy/grafana`: the rules pass `promtool test rules`, the scrape config passes
/// `promtool check config`, and every metric the rules and the dashboard name is one the real binaries export
/// once they have seen the events those metrics count.
@Suite(
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
    .enabled(if: Promtool.isAvailable, "promtool is missing (Debian's prometheus package, scripts/setup.sh)")
)
struct StarterPackTests {
    static let directory = "\(TestBundleFactory.packageRoot)/deploy/prometheus"

    @Test func alertRulesPassTheirTests() throws {
        let check = try Promtool.run(["check", "rules", "zumik-alerts.yml"], directory: Self.directory)
        #expect(check.status == 0, "\(check.text)")
        let test = try Promtool.run(["test", "rules", "zumik-alerts.test.yml"], directory: Self.directory)
        #expect(test.status == 0 && test.text.contains("SUCCESS"), "\(test.text)")
        // Each alert the issue asks for has a rule, and each rule is exercised by the tests.
        let rules = try String(contentsOfFile: "\(Self.directory)/zumik-alerts.yml", encoding: .utf8)
        let tests = try String(contentsOfFile: "\(Self.directory)/zumik-alerts.test.yml", encoding: .utf8)
        for alert in [
            "ZumikMonitorStalled", "ZumikPagerBroken", "ZumikAgentDown", "ZumikOutboxBacklog",
            "ZumikCertificateExpiring",
        ] {
            #expect(rules.contains("alert: \(alert)\n"), "no rule \(alert)")
        }
        for match in rules.matches(of: #/alert: (\w+)/#) {
            #expect(tests.contains("alertname: \(match.output.1)\n"), "\(match.output.1) is never tested")
        }
    }

    /// The scrape config with its token files moved to temp files (promtool checks they exist).
    @Test func scrapeConfigIsValid() throws {
        let work = try TempDir()
        defer { work.remove() }
        var config = try String(contentsOfFile: "\(Self.directory)/prometheus.yml", encoding: .utf8)
        for name in ["zumik-monitor.metrics-token", "zumik-agent.metrics-token"] {
            try "token-0123456789abcdef\n".write(toFile: work.file(name), atomically: false, encoding: .utf8)
            config = config.replacingOccurrences(of: "/etc/prometheus/\(name)", with: work.file(name))
        }
        try config.write(toFile: work.file("prometheus.yml"), atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(
            atPath: "\(Self.directory)/zumik-alerts.yml",
            toPath: work.file("zumik-alerts.yml")
        )
        let check = try Promtool.run(["check", "config", "prometheus.yml"], directory: work.path)
        #expect(check.status == 0, "\(check.text)")
    }

    /// A monitor remediating through a real agent (ladder, one round, then the page), with a Discord that
    /// fails once and an https property: then every name in the rules and the dashboard is exported.
    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "needs nginx and openssl"))
    func rulesAndDashboardNameOnlyExportedMetrics() async throws {
        let used = try Self.metricNamesUsed()
        #expect(used.count > 20, "\(used)")
        var exported: Set<String> = ["up"]
        try await BinaryAgent.with(bundles: [Scrapes.agentBundle]) { agent in
            exported.formUnion(Promtool.families(try await Scrapes.agent(agent)))
            exported.formUnion(Promtool.families(try await Self.monitorAfterAnIncident(agent: agent)))
        }
        for name in used.sorted() {
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                name.hasSuffix(suffix) && exported.contains(String(name.dropLast(suffix.count)))
                    ? String(name.dropLast(suffix.count)) : name
            }
            #expect(exported.contains(family), "\(name) is used but not exported")
        }
    }

    /// Every dashboard query is PromQL Prometheus accepts (checked as recording rules).
    @Test func dashboardQueriesParse() throws {
        let work = try TempDir()
        defer { work.remove() }
        let queries = try Self.dashboardQueries()
        #expect(queries.count > 20)
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, query) in queries.enumerated() {
            let quoted = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: query,
                    options: [.fragmentsAllowed, .withoutEscapingSlashes]
                ),
                as: UTF8.self
            )
            rules += "      - record: dashboard:query_\(index)\n        expr: \(quoted)\n"
        }
        try rules.write(toFile: work.file("dashboard.yml"), atomically: false, encoding: .utf8)
        let check = try Promtool.run(["check", "rules", "dashboard.yml"], directory: work.path)
        #expect(check.status == 0, "\(check.text)\n\(rules)")
    }

    /// The `expr` of every target in the Grafana dashboard.
    static func dashboardQueries() throws -> [String] {
        let dashboard = try JSONSerialization.jsonObject(
            with: Data(
                contentsOf: URL(fileURLWithPath: "\(TestBundleFactory.packageRoot)/deploy/grafana/zumik-ops.json")
            )
        )
        var queries: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, inner) in object {
                    if key == "expr", let text = inner as? String { queries.append(text) } else { collect(inner) }
                }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(dashboard)
        return queries
    }

    /// Metric names in the rules' and the dashboard's expressions.
    static func metricNamesUsed() throws -> Set<String> {
        let expressions =
            try String(contentsOfFile: "\(Self.directory)/zumik-alerts.yml", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("expr:") }.map(String.init) + dashboardQueries()
        return Set(
            expressions.flatMap {
                $0.matches(of: #/\b(zumik_[a-z_]+|process_[a-z_]+|up)\b/#).map { String($0.output.1) }
            }
        )
    }

    static func monitorAfterAnIncident(agent: BinaryAgent) async throws -> String {
        let dir = try TempDir()
        defer { dir.remove() }
        let cert = try SelfSignedCertificate(days: 30)
        defer { cert.remove() }
        let nginx = try NginxServer(
            locations: #"location / { return 200 "ok"; }"#,
            tls: (cert: cert.certPath, key: cert.keyPath)
        )
        defer { nginx.stop() }
        let discord = try FakeDiscord(script: [.status(500)])
        defer { discord.stop() }
        let controlPort = try LoopbackServer.freePort()
        try """
        interval: 1h
        confirmation_delay: 50ms
        control:
          listen: 127.0.0.1:\(controlPort)
        discord:
          retry_base_ms: 50
          retry_max_ms: 200
        remediation:
          settle_seconds: 0
        properties:
          - name: tls
            url: \(nginx.baseURL)/
            ca_file: \(cert.certPath)
          - name: gone
            url: http://127.0.0.1:\(try LoopbackServer.closedPort())/healthz
            timeout: 2s
            host: default
            service: test
        """.write(toFile: dir.file("monitor.yaml"), atomically: false, encoding: .utf8)
        let monitor = try MonitorProcess(
            config: dir.file("monitor.yaml"),
            environment: [
                "PATH": "/usr/bin:/bin", "DISCORD_WEBHOOK_URL": discord.webhookURL,
                "DISCORD_ALERT_USER_ID": "123456789012345678", "OPS_AGENT_URL": "http://127.0.0.1:\(agent.port)",
                "OPS_AGENT_TOKEN": BinaryAgent.token, "MAX_REMEDIATION_ROUNDS": "1",
            ],
            log: dir.file("monitor.log")
        )
        defer { monitor.terminate() }
        for _ in 0..<600 {
            let reply = try? await RawHTTP.get(port: controlPort, "/metrics")
            let exposition = reply.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
            if exposition.contains(#"zumik_monitor_alerts_delivered_total{kind="page"}"#) { return exposition }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RawHTTPError(message: "no page was delivered; log:\n\(monitor.logText)")
    }
}
