import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

@Suite struct ControlAPITests {
    static let token = "control-token-0123456789abcdef"
    static let webhookSecret = "https://discord.invalid/api/webhooks/1/SUPER-SECRET"

    struct Fixture {
        let dir: TempDir
        let server: LoopbackServer
        let runtime: MonitorRuntime
        var router: Router<BasicRequestContext> {
            ControlAPI.router(
                monitor: runtime.monitor,
                token: runtime.monitor.config.secrets.controlToken,
                registry: runtime.registry
            )
        }
    }

    static func fixture(token: String? = ControlAPITests.token) throws -> Fixture {
        let dir = try TempDir()
        let server = try LoopbackServer { _ in .respond(status: 200, body: "ok") }
        let config = MonitorConfig(
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "api", url: "\(server.baseURL)/healthz")],
            secrets: Secrets(discordWebhookURL: Secret(webhookSecret), controlToken: token.map(Secret.init))
        )
        let runtime = try MonitorRuntime(
            config: config,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return Fixture(dir: dir, server: server, runtime: runtime)
    }

    var auth: HTTPFields { [.authorization: "Bearer \(Self.token)"] }

    @Test func healthzIsOpenEverythingElseNeedsTheToken() async throws {
        let f = try Self.fixture()
        defer { f.server.stop() }
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            for (uri, method) in [("/v1/status", HTTPRequest.Method.get), ("/v1/check", .post), ("/metrics", .get)] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains(#""message":"missing or wrong bearer token""#))
                }
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(Self.token)x"]) {
                    #expect($0.status == .unauthorized)
                }
                try await client.execute(uri: uri, method: method, headers: [.authorization: "Basic \(Self.token)"]) {
                    #expect($0.status == .unauthorized)
                }
            }
        }
    }

    @Test func checkThenStatusShowsStateAndTimingsAndNoSecret() async throws {
        let f = try Self.fixture()
        defer { f.server.stop() }
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                )
                let properties = try #require(json["properties"] as? [[String: Any]])
                #expect(properties.first?["name"] as? String == "api")
                #expect(properties.first?["state"] == nil)
            }
            try await client.execute(uri: "/v1/check", method: .post, headers: auth) { response in
                #expect(response.status == .ok)
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                )
                let results = try #require(json["results"] as? [[String: Any]])
                #expect(results.first?["health"] as? String == "healthy")
            }
            try await client.execute(uri: "/v1/status", method: .get, headers: auth) { response in
                let text = String(buffer: response.body)
                #expect(!text.contains("SUPER-SECRET"))
                #expect(!text.contains(Self.token))
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                )
                let property = try #require((json["properties"] as? [[String: Any]])?.first)
                #expect(property["state"] as? String == "healthy")
                let last = try #require(property["last_result"] as? [String: Any])
                #expect(last["status"] as? Int == 200)
                let timings = try #require(last["timings"] as? [String: Any])
                #expect((timings["total_ms"] as? Double ?? 0) > 0)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"zumik_monitor_probes_total{property="api",outcome="healthy"} 1"#))
                #expect(text.contains("zumik_monitor_probe_duration_seconds"))
            }
        }
    }

    @Test func silenceAndUnsilence() async throws {
        let f = try Self.fixture()
        defer { f.server.stop() }
        let until = Date().addingTimeInterval(3600)
        let untilText = ISO8601DateFormatter().string(from: until)
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(
                uri: "/v1/properties/nope/silence",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"until":"\#(untilText)"}"#)
            ) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains(#"unknown property \"nope\""#))
            }
            try await client.execute(
                uri: "/v1/properties/api/silence",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"until":"tomorrow"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("until: not an ISO 8601 date-time"))
            }
            try await client.execute(
                uri: "/v1/properties/api/silence",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"until":"2001-01-01T00:00:00Z"}"#)
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/v1/properties/api/silence",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: "not json")
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/v1/properties/api/silence",
                method: .post,
                headers: auth,
                body: ByteBuffer(string: #"{"until":"\#(untilText)"}"#)
            ) { #expect($0.status == .ok) }
            let silenced = try #require(try f.runtime.store.state(of: "api")?.silencedUntil)
            #expect(abs(silenced.timeIntervalSince(until)) < 1)
            try await client.execute(uri: "/v1/status", method: .get, headers: auth) { response in
                #expect(String(buffer: response.body).contains("silenced_until"))
            }
            try await client.execute(uri: "/v1/properties/api/silence", method: .delete, headers: auth) {
                #expect($0.status == .ok)
            }
            #expect(try f.runtime.store.state(of: "api")?.silencedUntil == nil)
        }
    }

    @Test func withoutTokenOnlyLoopbackIsAllowed() throws {
        #expect(throws: ConfigError.self) { try ControlAPI.checkListenAddress(host: "0.0.0.0", token: nil) }
        try ControlAPI.checkListenAddress(host: "127.0.0.1", token: nil)
        try ControlAPI.checkListenAddress(host: "::1", token: nil)
        try ControlAPI.checkListenAddress(host: "0.0.0.0", token: Secret(Self.token))
    }

    @Test func withoutTokenOnLoopbackTheAPIIsOpen() async throws {
        let f = try Self.fixture(token: nil)
        defer { f.server.stop() }
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(uri: "/v1/status", method: .get) { #expect($0.status == .ok) }
        }
    }
}
