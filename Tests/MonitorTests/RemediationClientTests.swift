import ActionKit
import Foundation
import HTTPTypes
import Hummingbird
import Monitor
import Probing
import Remediation
import Testing
import ZumikTestSupport

@Suite("Remediation clients")
struct RemediationClientTests {
    static func client(_ base: String) -> AgentClient {
        AgentClient(
            configuration: .init(baseURL: base, token: FakeWorld.token, requestTimeout: .seconds(5)),
            transport: remediationTestTransport
        )
    }

    /// An agent-shaped server that answers every route with `status` and `body`.
    static func serveFixed<T: Sendable>(
        status: Int,
        body: String,
        headers: [String: String] = [:],
        _ run: @Sendable (String) async throws -> T
    ) async throws -> T {
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            var fields = HTTPFields()
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            return Response(
                status: .init(code: status),
                headers: fields,
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        router.get("/v1/actions", use: handler)
        router.post("/v1/actions/:id/run", use: handler)
        return try await withLoopbackRouter(router) { port in try await run("http://127.0.0.1:\(port)") }
    }

    @Test("the agent client reads the catalog and runs an action")
    func agentHappyPath() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        try await world.serveAgent { base in
            let client = Self.client(base + "/")
            try await client.healthz()
            let catalog = try await client.catalog()
            #expect(catalog.actions.map(\.id).contains("restart_api_core"))
            let result = try await client.run(
                action: "restart_api_core",
                reason: "because",
                incident: "inc-9",
                timeout: .seconds(5)
            )
            #expect(result.auditID == "audit-1")
            #expect(result.outcome == "succeeded")
        }
        #expect(world.runs == ["restart_api_core"])
        #expect(world.incidents == ["inc-9"])
    }

    @Test("a wrong token is refused with 401, not reported as unreachable")
    func wrongToken() async throws {
        let world = FakeWorld(healingAction: nil)
        try await world.serveAgent { base in
            let client = AgentClient(
                configuration: .init(baseURL: base, token: "wrong-token-wrong-token"),
                transport: remediationTestTransport
            )
            await #expect(throws: AgentClientError.refused(status: 401, message: "unauthorized", retryAfter: nil)) {
                _ = try await client.catalog()
            }
        }
    }

    @Test(
        "proxy errors and dead hosts are unreachable; 409/429 are refusals; junk is a bad response",
        arguments: Self.classificationCases
    )
    func errorClassification(testCase: ClassificationCase) async throws {
        let status = testCase.status
        let body = testCase.body
        let expected = testCase.expected
        let error: AgentClientError? = try await Self.serveFixed(
            status: status,
            body: body,
            headers: status == 429 ? ["Retry-After": "30"] : [:]
        ) { base -> AgentClientError? in
            do {
                _ = try await Self.client(base).run(
                    action: "restart_api_core",
                    reason: nil,
                    incident: nil,
                    timeout: .seconds(5)
                )
                return nil
            } catch {
                return error as? AgentClientError
            }
        }
        switch (try #require(error), expected) {
        case (.unreachable, "unreachable"), (.badResponse, "bad"): break
        case (.refused(let got, let message, let retryAfter), "refused"):
            #expect(got == status)
            #expect(!message.isEmpty)
            #expect(retryAfter == (status == 429 ? 30 : nil))
        case (let other, _): Issue.record("HTTP \(status) gave \(other), expected \(expected)")
        }
    }

    struct ClassificationCase: Sendable, CustomTestStringConvertible {
        var status: Int
        var body: String
        var expected: String
        var testDescription: String { "HTTP \(status) → \(expected)" }
    }

    static let classificationCases: [ClassificationCase] = [
        ClassificationCase(status: 502, body: "bad gateway", expected: "unreachable"),
        ClassificationCase(status: 503, body: "", expected: "unreachable"),
        ClassificationCase(status: 504, body: "", expected: "unreachable"),
        ClassificationCase(status: 409, body: #"{"error":{"message":"lock docker busy"}}"#, expected: "refused"),
        ClassificationCase(status: 429, body: #"{"error":{"message":"cooldown"}}"#, expected: "refused"),
        ClassificationCase(status: 404, body: #"{"error":{"message":"no such action"}}"#, expected: "refused"),
        ClassificationCase(status: 200, body: "<html>", expected: "bad"),
        ClassificationCase(status: 500, body: "oops", expected: "bad"),
    ]

    @Test("nothing listening is unreachable")
    func connectionRefused() async throws {
        let client = Self.client("http://127.0.0.1:\(closedLoopbackPort())")
        do {
            try await client.healthz()
            Issue.record("healthz succeeded against a closed port")
        } catch {
            guard case .unreachable = error else {
                Issue.record("expected unreachable, got \(error)")
                return
            }
        }
    }

    @Test("an action id that is not a plain id is never sent")
    func badActionIDNotSent() async throws {
        let world = FakeWorld(healingAction: nil)
        try await world.serveAgent { base in
            for id in ["../healthz", "restart api", "restart;reboot", "ÄÖ", ""] {
                await #expect(throws: AgentClientError.self) {
                    _ = try await Self.client(base).run(action: id, reason: nil, incident: nil, timeout: .seconds(2))
                }
            }
        }
        #expect(world.runs.isEmpty)
    }

    @Test("tool arguments must be exactly {reason: non-empty string}")
    func toolArguments() {
        #expect(RemediationTools.reason(fromArguments: #"{"reason":" fix it "}"#) == .success("fix it"))
        let long = String(repeating: "x", count: 900)
        #expect(
            RemediationTools.reason(fromArguments: "{\"reason\":\"\(long)\"}")
                == .success(String(long.prefix(499)) + "…")
        )
        let bads: [String] = [
            "", "{", "[]", "\"reason\"", #"{"reason":1}"#, #"{"reason":""}"#, #"{"why":"x"}"#,
            #"{"reason":"x","argv":["/bin/sh"]}"#,
        ]
        for bad in bads {
            guard case .failure = RemediationTools.reason(fromArguments: bad) else {
                Issue.record("accepted \(bad)")
                continue
            }
        }
    }

    @Test("rendered tools are strict functions valid as an OpenAI request")
    func renderedToolsAreValid() async throws {
        let tools = RemediationTools.tools(for: FakeWorld.catalog.actions)
        #expect(tools.last?.function.name == "escalate_to_human")
        let request = OpenAIChat.Request(
            model: "gpt-4o-mini",
            messages: [
                .system("s"), .user("u"),
                .init(
                    role: .assistant,
                    content: nil,
                    toolCalls: [.init(id: "c1", name: "restart_api_core", arguments: "{}")]
                ),
                .tool(callID: "c1", "done"),
            ],
            tools: tools,
            maxCompletionTokens: 800
        )
        let body = Array(try JSONEncoder().encode(request))
        #expect(await OpenAISpecs.validate(body, against: OpenAISpecs.requestSchema) == nil)
    }

    @Test("the fake OpenAI's own responses are valid chat completions")
    func fakeResponsesAreValid() async throws {
        let fake = FakeOpenAI(script: [
            .call("restart_api_core", reason: "r"),
            .text("just text"),
            .malformedArguments("restart_api_core"),
            .toolCalls([.init(name: "a", arguments: "{}"), .init(name: "b", arguments: "{}")]),
        ])
        try await fake.serve { base in
            let client = ChatCompletionsClient(
                configuration: .init(baseURL: base, apiKey: "k"),
                transport: remediationTestTransport
            )
            for _ in 0..<5 {
                _ = try await client.complete(messages: [.user("hi")], tools: [])
            }
        }
        #expect(fake.served.count == 5)
        #expect(await fake.schemaFailures() == [])
        // The check itself can fail: an invalid body is reported.
        #expect(await OpenAISpecs.validate(Array(#"{"id":1}"#.utf8), against: OpenAISpecs.responseSchema) != nil)
    }

    @Test("a page's Discord payload is valid and can ping only the on-call user")
    func pagePayload() async throws {
        let notice = RemediationNotice(
            incidentID: 1,
            property: "api",
            content: "<@42> down. Model said: @everyone <@999>",
            mentionUserID: "42"
        )
        let payload = StorageJournal.message(notice).body
        #expect(await OpenAISpecs.validate(payload, against: "discord_execute_webhook.strict.schema.json") == nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        let mentions = try #require(object["allowed_mentions"] as? [String: Any])
        #expect(mentions["parse"] as? [String] == [])
        #expect(mentions["users"] as? [String] == ["42"])
        let quiet = RemediationNotice(incidentID: 1, property: "api", content: "progress @everyone")
        let quietPayload = StorageJournal.message(quiet).body
        let quietObject = try #require(try JSONSerialization.jsonObject(with: Data(quietPayload)) as? [String: Any])
        #expect((quietObject["allowed_mentions"] as? [String: Any])?["users"] == nil)
    }
}

extension RemediationClientTests {
    /// The libcurl engine refuses header injection before anything is sent.
    @Test func engineRefusesHeadersWithLineBreaks() async {
        for header in [(name: "X-Evil", value: "a\r\nHost: elsewhere"), (name: "X-Bad:Name", value: "v")] {
            let request = Probing.HTTPRequest(method: "GET", url: "http://127.0.0.1:9/", headers: [header])
            let result = await remediationTestTransport.send(request)
            #expect(
                result.error
                    == TransportError(
                        kind: .invalidRequest,
                        curlCode: 0,
                        message: "header \(header.name) has a line break"
                    )
            )
            #expect(result.status == nil)
        }
    }
}
