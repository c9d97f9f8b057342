import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// Issue 15: Gatus-like conditions, each against a real loopback server (nginx for the certificate).
@Suite struct CheckConditionTests {
    let engine = CurlEngine(maxInFlight: 8)

    func target(_ url: String, _ conditions: [String]) throws -> ProbeTarget {
        var target = ProbeTarget(name: "api", url: url, timeout: .seconds(5))
        target.conditions = try conditions.map { try Condition($0) }
        return target
    }

    func serve(_ body: String, headers: [(String, String)] = [], status: Int = 200) throws -> LoopbackServer {
        try LoopbackServer { _ in .respond(status: status, headers: headers, body: body) }
    }

    @Test func passingConditionsAreHealthy() async throws {
        let server = try serve(
            #"{"data": {"status": "ok", "items": [{"id": 7}]}, "queue": {"depth": 12}, "ready": true}"#,
            headers: [("Content-Type", "application/json"), ("X-Version", "2")]
        )
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(
            try target(
                server.baseURL,
                [
                    "[STATUS] in 200-299, 304", "[BODY] =~ \"\\\"status\\\": *\\\"ok\\\"\"", #"$.data.status == "ok""#,
                    "$.data.status == ok", "$.queue.depth < 100", "$.data.items[0].id == 7", "$.ready == true",
                    #"[HEADER:Content-Type] =~ "json""#, "[HEADER:X-Version] == 2", "[RESPONSE_TIME] < 30000",
                ]
            )
        )
        #expect(result.health == .healthy, "\(result.reasons)")
    }

    @Test func eachFailingConditionIsNamedWithWhatWasSeen() async throws {
        let server = try serve(
            #"{"data": {"status": "degraded"}, "queue": {"depth": 250}}"#,
            headers: [("Content-Type", "text/html")],
            status: 503
        )
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(
            try target(
                server.baseURL,
                [
                    "[STATUS] < 500", #"$.data.status == "ok""#, "$.queue.depth < 100", "$.missing.key == 1",
                    #"[HEADER:Content-Type] =~ "json""#, "[HEADER:X-Absent] == 1", #"[BODY] =~ "^ready$""#,
                    "[RESPONSE_TIME] < 0",
                ]
            )
        )
        #expect(result.health == .down)
        let body = #"{"data": {"status": "degraded"}, "queue": {"depth": 250}}"#
        let expected = [
            "condition 1 ([STATUS] < 500) failed: saw 503",
            #"condition 2 ($.data.status == "ok") failed: saw "degraded""#,
            "condition 3 ($.queue.depth < 100) failed: saw 250",
            "condition 4 ($.missing.key == 1) failed: $.missing.key not found",
            #"condition 5 ([HEADER:Content-Type] =~ "json") failed: saw "text/html""#,
            "condition 6 ([HEADER:X-Absent] == 1) failed: no X-Absent header",
            #"condition 7 ([BODY] =~ "^ready$") failed: no match in the body (""# + body + #"")"#,
        ]
        #expect(Array(result.reasons.prefix(7)) == expected)
        #expect(result.reasons.count == 8, "\(result.reasons)")
        #expect(result.reasons.last?.hasPrefix("condition 8 ([RESPONSE_TIME] < 0) failed: took ") == true)
    }

    @Test func aJSONConditionOnABodyThatIsNotJSONSaysSo() async throws {
        let server = try serve("<html>maintenance</html>")
        defer { server.stop() }
        let result = await Prober(transport: engine).probe(try target(server.baseURL, ["$.status == ok"]))
        #expect(result.reasons == ["condition 1 ($.status == ok) failed: the body is not JSON"])
    }

    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "nginx or openssl missing"))
    func certificateDaysLeftAgainstRealNginx() async throws {
        let cert = try SelfSignedCertificate(days: 10)
        defer { cert.remove() }
        let nginx = try NginxServer(
            locations: #"location / { return 200 "ok\n"; }"#,
            tls: (cert.certPath, cert.keyPath)
        )
        defer { nginx.stop() }
        var ok = try target(nginx.baseURL, ["[CERT_DAYS_LEFT] > 5"])
        ok.caFile = cert.certPath
        ok.certWarningDays = 0
        var short = try target(nginx.baseURL, ["[CERT_DAYS_LEFT] > 30"])
        short.caFile = cert.certPath
        short.certWarningDays = 0
        let results = await Prober(transport: engine).probeAll([ok, short])
        #expect(results[0].health == .healthy, "\(results[0].reasons)")
        #expect(results[1].health == .down)
        #expect(results[1].reasons == ["condition 1 ([CERT_DAYS_LEFT] > 30) failed: 9 days left"])
    }

    @Test func badConditionsAreConfigErrorsNamingPropertyAndIndex() {
        let errors = configErrors(
            """
            properties:
              - name: api
                url: http://127.0.0.1:1/
                conditions:
                  - "[STATUS] == 200"
                  - "[BODY] == ok"
                  - "$.a..b == 1"
                  - "[STATUS] in 300-200"
                  - "[BODY] =~ \\"(unclosed\\""
                  - "[LATENCY] < 5"
                  - "$.depth < many"
                  - "[STATUS]"
            """
        )
        #expect(errors.count == 7, "\(errors)")
        #expect(
            errors.contains(
                "monitor.yaml: properties[0].conditions[1]: == cannot be used here (allowed: =~) in \"[BODY] == ok\""
            )
        )
        #expect(
            errors.contains {
                $0.hasPrefix("monitor.yaml: properties[0].conditions[2]: $.a..b is not a supported JSON path")
            }
        )
        #expect(
            errors.contains {
                $0.hasPrefix("monitor.yaml: properties[0].conditions[3]: expected status codes and ranges")
            }
        )
        #expect(errors.contains { $0.hasPrefix("monitor.yaml: properties[0].conditions[4]: bad regular expression") })
        #expect(
            errors.contains { $0.hasPrefix("monitor.yaml: properties[0].conditions[5]: unknown subject [LATENCY]") }
        )
        #expect(errors.contains("monitor.yaml: properties[0].conditions[6]: < needs a number in \"$.depth < many\""))
        #expect(
            errors.contains {
                $0.hasPrefix("monitor.yaml: properties[0].conditions[7]: expected SUBJECT OPERATOR VALUE")
            }
        )
    }
}
