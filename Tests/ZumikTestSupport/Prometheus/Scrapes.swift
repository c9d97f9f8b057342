import Foundation

/// The real programs' `/metrics` after some traffic, for the exposition tests and the starter pack's checks.
public enum Scrapes {
    /// The metric families both programs must export after ``monitor(environment:scrapeToken:_:)`` and
    /// ``agent(_:)`` traffic.
    public static let monitorFamilies = [
        "zumik_monitor_probes_total", "zumik_monitor_probe_duration_seconds", "zumik_monitor_property_state",
        "zumik_monitor_open_incidents", "zumik_monitor_last_cycle_timestamp_seconds", "zumik_monitor_outbox_pending",
        "zumik_monitor_outbox_oldest_pending_age_seconds", "zumik_monitor_outbox_parked", "zumik_monitor_pager_broken",
        "zumik_monitor_build_info", "zumik_monitor_alerts_delivered_total", "zumik_monitor_transitions_total",
    ]
    public static let agentFamilies = [
        "zumik_agent_http_requests_total", "zumik_agent_http_request_duration_seconds",
        "zumik_agent_action_runs_total", "zumik_agent_action_duration_seconds",
        "zumik_agent_action_refusals_total", "zumik_agent_bundles_loaded", "zumik_agent_bundles_refused",
        "zumik_agent_actions_loaded", "zumik_agent_audit_write_failures_total", "zumik_agent_build_info",
        "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds",
    ]

    /// A monitor binary watching a healthy loopback server (`web`) and a closed port (`gone`), scraped once
    /// the outage was confirmed and its alert delivered (to the console). `body` gets the control port and the
    /// exposition text.
    public static func monitor(
        environment: [String: String] = [:],
        scrapeToken: String? = nil,
        _ body: (Int, String) async throws -> Void
    ) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let web = try LoopbackServer(handler: { _ in .respond(status: 200, body: "ok") })
        defer { web.stop() }
        let controlPort = try LoopbackServer.freePort()
        let config = dir.file("monitor.yaml")
        try """
        interval: 1h
        confirmation_delay: 50ms
        control:
          listen: 127.0.0.1:\(controlPort)
        properties:
          - name: web
            url: \(web.baseURL)/healthz
            timeout: 5s
          - name: gone
            url: http://127.0.0.1:\(try LoopbackServer.closedPort())/healthz
            timeout: 2s
        """.write(toFile: config, atomically: false, encoding: .utf8)
        let monitor = try MonitorProcess(
            config: config,
            environment: environment.merging(["PATH": "/usr/bin:/bin"]) { $1 },
            log: dir.file("monitor.log")
        )
        defer { monitor.terminate() }
        var exposition = ""
        for _ in 0..<300 {
            let reply = try? await RawHTTP.get(port: controlPort, "/metrics", token: scrapeToken)
            exposition = reply.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
            if exposition.contains(#"zumik_monitor_property_state{property="gone",state="down"} 1"#),
                exposition.contains("zumik_monitor_alerts_delivered_total")
            {
                try await body(controlPort, exposition)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RawHTTPError(message: "the monitor never confirmed the outage; log:\n\(monitor.logText)\n\(exposition)")
    }

    /// The bundle ``agent(_:)`` expects: one action, `test_echo`.
    public static let agentBundle = (
        name: "first",
        manifest: testManifest(bundleID: "ai.zumik.nginx", actions: [("test_echo", "echo hi", 10, "echo")]),
        plugin: "NginxActions"
    )

    /// A run, a run of an unknown action, a catalog read, a refused token; then the agent's exposition text.
    public static func agent(_ agent: BinaryAgent) async throws -> String {
        let run = try await agent.run("test_echo")
        guard run.status == 200 else { throw RawHTTPError(message: "test_echo answered \(run.status)") }
        _ = try await agent.run("no_such_action")
        // A known action refused before running (a body that is not JSON).
        _ = try await agent.run("test_echo", json: "{")
        _ = try await agent.get("/v1/actions")
        _ = try await RawHTTP.get(port: agent.port, "/v1/actions", token: "wrong-token-0123456789")
        let metrics = try await agent.get("/metrics")
        guard metrics.status == 200 else { throw RawHTTPError(message: "/metrics answered \(metrics.status)") }
        return String(decoding: metrics.body, as: UTF8.self)
    }
}
