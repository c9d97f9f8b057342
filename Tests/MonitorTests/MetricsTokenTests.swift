import Foundation
import Testing
import ZumikTestSupport

/// `METRICS_TOKEN`: the monitor's `/metrics` is scraped with a credential that can do nothing else.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct MonitorMetricsTokenTests {
    @Test func metricsTokenReadsMetricsAndIsRefusedEverywhereElse() async throws {
        let control = "control-token-0123456789"
        let metrics = "metrics-token-0123456789"
        try await Scrapes.monitor(
            environment: ["CONTROL_TOKEN": control, "METRICS_TOKEN": metrics],
            scrapeToken: metrics
        ) { port, exposition in
            #expect(exposition.contains("zumik_monitor_build_info"))
            let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let privileged: [(String, String, String)] = [
                ("GET", "/v1/status", ""), ("POST", "/v1/check", ""),
                ("POST", "/v1/properties/web/silence", #"{"until":"\#(until)"}"#),
                ("DELETE", "/v1/properties/web/silence", ""), ("POST", "/v1/outbox/retry", ""),
            ]
            for (method, path, body) in privileged {
                let reply = try await RawHTTP.send(
                    port: port,
                    method: method,
                    path: path,
                    headers: [("Authorization", "Bearer \(metrics)"), ("Content-Type", "application/json")],
                    body: Array(body.utf8)
                )
                #expect(reply.status == 401, "\(method) \(path) answered \(reply.status)")
            }
            // The control token still does both.
            #expect(try await RawHTTP.get(port: port, "/v1/status", token: control).status == 200)
            #expect(try await RawHTTP.get(port: port, "/metrics", token: control).status == 200)
            #expect(try await RawHTTP.get(port: port, "/metrics").status == 401)
        }
    }
}
