import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Issue 15: a check's request — method, headers, body, secrets and auth from the environment, redirects —
/// against a real loopback server that records what it received.
@Suite struct CheckRequestTests {
    let engine = CurlEngine(maxInFlight: 8)

    /// The one property of `yaml` (prefixed with `properties:`), read with `env`.
    func property(_ yaml: String, env: [String: String] = [:]) throws -> PropertyConfig {
        let config = try ConfigLoader.parse(yaml: "properties:\n" + yaml, file: "monitor.yaml", environment: env)
        return try #require(config.properties.first)
    }

    @Test func methodHeadersBodyAndSecretHeaderAreSentAndNeverShown() async throws {
        let received = Mutex<ReceivedRequest?>(nil)
        let server = try LoopbackServer { request in
            received.withLock { $0 = request }
            return .respond(status: 201, body: "created")
        }
        defer { server.stop() }
        let secret = "s3cret-api-key-0123456789"
        let property = try property(
            """
              - name: api
                url: \(server.baseURL)/orders
                method: post
                expected_status: 201
                headers:
                  Content-Type: application/json
                  X-Tenant: zumik
                  User-Agent: status-probe/2
                headers_env:
                  X-Api-Key: API_KEY
                body: '{"probe": true}'
            """,
            env: ["API_KEY": secret]
        )
        let result = await Prober(transport: engine).probe(property.target)
        #expect(result.health == .healthy, "\(result.reasons)")
        let request = try #require(received.withLock { $0 })
        #expect(request.method == "POST")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["x-tenant"] == "zumik")
        #expect(request.headers["user-agent"] == "status-probe/2")
        #expect(request.headers["cache-control"] == "no-cache")
        #expect(request.headers["x-api-key"] == secret)
        #expect(request.bodyText == #"{"probe": true}"#)
        let shown = "\(property) \(String(reflecting: property)) \(result)"
        #expect(!shown.contains(secret))
        #expect(shown.contains("X-Api-Key: <redacted>"))
    }

    @Test func basicAndBearerAuthComeFromTheEnvironment() async throws {
        let authorizations = Mutex<[String: String]>([:])
        let server = try LoopbackServer { request in
            authorizations.withLock {
                $0[String(request.target.prefix { $0 != "?" })] = request.headers["authorization"]
            }
            return .respond(status: 200, body: "ok")
        }
        defer { server.stop() }
        let env = ["API_PASSWORD": "pa55:word", "API_TOKEN": "tok-123"]
        let basic = try property(
            """
              - name: basic
                url: \(server.baseURL)/basic
                basic_auth: {username: probe, password_env: API_PASSWORD}
            """,
            env: env
        )
        let bearer = try property(
            """
              - name: bearer
                url: \(server.baseURL)/bearer
                bearer_token_env: API_TOKEN
            """,
            env: env
        )
        _ = await Prober(transport: engine).probeAll([basic.target, bearer.target])
        let seen = authorizations.withLock { $0 }
        #expect(seen["/basic"] == "Basic " + Data("probe:pa55:word".utf8).base64EncodedString())
        #expect(seen["/bearer"] == "Bearer tok-123")
    }

    @Test func unsetOrBadSecretsAreErrorsThatNeverShowAValue() {
        let errors = configErrors(
            """
            properties:
              - name: api
                url: http://127.0.0.1:1/
                bearer_token_env: API_TOKEN
                headers_env: {X-Key: MULTI_LINE}
                headers: {"Bad Header": x}
            """,
            env: ["MULTI_LINE": "line1\nhunter2"]
        )
        #expect(
            errors.contains("monitor.yaml: properties[0].bearer_token_env: environment variable API_TOKEN is not set")
        )
        #expect(
            errors.contains(
                "monitor.yaml: properties[0].headers_env.X-Key: environment variable MULTI_LINE contains a line break"
            )
        )
        #expect(
            errors.contains { $0.hasPrefix("monitor.yaml: properties[0].headers: header names must be HTTP tokens") }
        )
        #expect(!errors.joined().contains("hunter2"))
    }

    @Test func credentialsInTheURLAreRefusedPointingToTheAuthKeys() {
        let errors = configErrors(
            """
            properties:
              - name: api
                url: https://probe:hunter2@api.zumik.ai/
            """
        )
        #expect(errors.count == 1)
        #expect(errors.first?.contains("use basic_auth or bearer_token_env") == true, "\(errors)")
        #expect(errors.first?.contains("hunter2") == false)
    }

    /// A followed redirect to another origin does not take the secret Authorization along.
    @Test func authorizationStaysWithTheFirstOriginAcrossARedirect() async throws {
        let seen = Mutex<String??>(nil)
        let other = try LoopbackServer { request in
            seen.withLock { $0 = .some(request.headers["authorization"]) }
            return .respond(status: 200, body: "ok")
        }
        defer { other.stop() }
        let first = try LoopbackServer { _ in .respond(status: 302, headers: [("Location", "\(other.baseURL)/landing")])
        }
        defer { first.stop() }
        let property = try property(
            "  - {name: api, url: \"\(first.baseURL)/\", follow_redirects: true, bearer_token_env: API_TOKEN}",
            env: ["API_TOKEN": "tok-123"]
        )
        let result = await Prober(transport: engine).probe(property.target)
        #expect(result.health == .healthy, "\(result.reasons)")
        #expect(seen.withLock { $0 } == .some(nil), "the token went to the redirect's origin")
    }

    @Test func redirectsAreFollowedOnlyWhenAskedAndCapped() async throws {
        let server = try LoopbackServer { request in
            switch request.target.prefix(while: { $0 != "?" }) {
            case "/old": .respond(status: 302, headers: [("Location", "/new")])
            case "/loop": .respond(status: 302, headers: [("Location", "/loop")])
            default: .respond(status: 200, body: "new home")
            }
        }
        defer { server.stop() }
        let plain = try property("  - {name: plain, url: \"\(server.baseURL)/old\"}")
        let follow = try property("  - {name: follow, url: \"\(server.baseURL)/old\", follow_redirects: true}")
        let loop = try property(
            "  - {name: loop, url: \"\(server.baseURL)/loop\", follow_redirects: true, max_redirects: 3}"
        )
        let results = await Prober(transport: engine).probeAll([plain.target, follow.target, loop.target])
        #expect(results[0].health == .down)
        #expect(results[0].reasons == ["unexpected status 302 (expected 200)"])
        #expect(results[1].health == .healthy, "\(results[1].reasons)")
        #expect(results[2].health == .down)
        #expect(results[2].reasons.first?.contains("redirect") == true, "\(results[2].reasons)")
        #expect(
            configErrors("properties:\n  - {name: a, url: \"http://x/\", max_redirects: 3}") == [
                "monitor.yaml: properties[0].max_redirects: needs follow_redirects: true"
            ]
        )
    }
}
