import Foundation
import Testing
import ZumikTestSupport

/// The real monitor's control API checked against `openapi/monitor.yaml`; its refusals are RFC 9457
/// problem documents with one `type` per kind.
@Suite(
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
    .enabled(if: OpenAPICheck.available, "python3 with PyYAML and jsonschema is needed (pip install schemathesis)")
)
struct MonitorOpenAPIConformanceTests {
    @Test func responsesMatchTheDocument() async throws {
        let control = "control-token-0123456789"
        let metrics = "metrics-token-0123456789"
        try await Scrapes.monitor(
            environment: ["CONTROL_TOKEN": control, "METRICS_TOKEN": metrics],
            scrapeToken: metrics
        ) { port, _ in
            let work = try ZumikTestSupport.TempDir()
            defer { work.remove() }
            let token = [("Authorization", "Bearer \(control)")]
            let json = [("Content-Type", "application/json")]
            let cases = OpenAPICheck.Cases(port: port)
            let silence = "/v1/properties/{name}/silence"
            let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            try await cases.add("/healthz", "get", "/healthz")
            try await cases.add("/v1/status", "get", "/v1/status", headers: token)
            try await cases.add("/v1/status", "get", "/v1/status")
            try await cases.add("/v1/status", "get", "/v1/status", headers: [("Authorization", "Bearer \(metrics)")])
            try await cases.add("/v1/check", "post", "/v1/check", headers: token)
            try await cases.add(
                silence,
                "post",
                "/v1/properties/web/silence",
                headers: token + json,
                body: #"{"until":"\#(until)"}"#
            )
            try await cases.add(silence, "post", "/v1/properties/web/silence", headers: token + json, body: "{")
            try await cases.add(
                silence,
                "post",
                "/v1/properties/web/silence",
                headers: token + json,
                body: #"{"until":"2001-01-01T00:00:00Z"}"#
            )
            try await cases.add(
                silence,
                "post",
                "/v1/properties/nope/silence",
                headers: token + json,
                body: #"{"until":"\#(until)"}"#
            )
            try await cases.add(silence, "delete", "/v1/properties/web/silence", headers: token)
            try await cases.add(silence, "delete", "/v1/properties/nope/silence", headers: token)
            try await cases.add("/v1/outbox/retry", "post", "/v1/outbox/retry", headers: token)
            try await cases.add(
                "/v1/outbox/retry",
                "post",
                "/v1/outbox/retry",
                headers: token + json,
                body: #"{"ids":"x"}"#
            )
            try await cases.add("/metrics", "get", "/metrics", headers: [("Authorization", "Bearer \(metrics)")])
            try await cases.add("/metrics", "get", "/metrics")
            #expect(
                Set(cases.all.map(\.response.status)) == [200, 400, 401, 404],
                "\(cases.summary)"
            )
            let problems = try OpenAPICheck.validate(cases.all, in: work, document: "openapi/monitor.yaml")
            #expect(problems.isEmpty, "\(problems)")

            // One type per kind of refusal, the old `error.message` kept.
            let expected: [Int: String] = [401: "bad-token", 404: "unknown-property", 400: "bad-request"]
            for entry in cases.all where entry.response.status >= 400 {
                let body = try entry.response.json()
                #expect(body["type"] as? String == "https://zumik.ai/problems/\(expected[entry.response.status] ?? "")")
                #expect((body["error"] as? [String: Any])?["message"] as? String == body["detail"] as? String)
            }
            let unknownRoute = try await RawHTTP.get(port: port, "/v1/nothing", token: control)
            #expect(unknownRoute.status == 404)
            #expect(unknownRoute.header("content-type") == "application/problem+json")
            #expect(try unknownRoute.json()["type"] as? String == "https://zumik.ai/problems/not-found")
        }
    }
}
