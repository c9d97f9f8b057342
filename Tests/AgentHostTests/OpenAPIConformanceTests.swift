import Foundation
import Testing
import ZumikTestSupport

/// Responses of the real agent checked against `openapi/ops-agent.yaml` (status documented for the
/// operation, body valid against its schema, required headers present) with Python's jsonschema.
@Suite(
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(if: OpenAPICheck.available, "python3 with PyYAML and jsonschema is needed (pip install schemathesis)")
)
struct OpenAPIConformanceTests {
    @Test func responsesMatchTheDocument() async throws {
        let work = try TempDir()
        defer { work.remove() }
        let manifest = testManifest(
            bundleID: "ai.zumik.nginx",
            actions: [
                ("conform_echo", "echo hello", 10, "conform"),
                (
                    "conform_slow",
                    try work.script(
                        "slow",
                        "touch \(work.file("started")); while [ ! -e \(work.file("gate")) ]; do sleep 0.1; done"
                    ),
                    30, "slow"
                ),
            ]
        )
        try await BinaryAgent.with(bundles: [(name: "conform", manifest: manifest, plugin: "NginxActions")]) { agent in
            let token = [("Authorization", "Bearer \(BinaryAgent.token)")]
            let json = [("Content-Type", "application/json")]
            let cases = OpenAPICheck.Cases(port: agent.port)
            let run = "/v1/actions/{id}/run"
            try await cases.add("/healthz", "get", "/healthz")
            try await cases.add("/metrics", "get", "/metrics", headers: token)
            try await cases.add("/v1/actions", "get", "/v1/actions", headers: token)
            try await cases.add("/v1/actions", "get", "/v1/actions")
            try await cases.add(
                run,
                "post",
                "/v1/actions/conform_echo/run",
                headers: token + json,
                body: #"{"reason":"r"}"#
            )
            try await cases.add(run, "post", "/v1/actions/conform_echo/run", headers: token)
            try await cases.add(run, "post", "/v1/actions/no_such/run", headers: token)
            try await cases.add(run, "post", "/v1/actions/..%2F/run", headers: token)
            try await cases.add(run, "post", "/v1/actions/conform_echo/run", headers: token + json, body: "{")
            try await cases.add(run, "post", "/v1/actions/conform_echo/run", headers: token + json, body: #"{"x":1}"#)
            try await cases.add(
                run,
                "post",
                "/v1/actions/conform_echo/run",
                headers: token + json,
                body: #"{"reason":""# + String(repeating: "a", count: 5000) + #""}"#
            )
            try await cases.add(run, "post", "/v1/actions/conform_echo/run", headers: [("Authorization", "Basic x")])
            try await cases.add(run, "get", "/v1/actions/conform_echo/run", headers: token)
            try await cases.add("/v1/audit", "get", "/v1/audit?limit=3", headers: token)
            try await cases.add("/v1/audit", "get", "/v1/audit?limit=0", headers: token)
            try await cases.add("/v1/audit", "get", "/v1/audit", headers: token)
            // 409: the lock is held by a run in flight.
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                group.addTask { try await agent.run("conform_slow") }
                let started = try await agent.eventually {
                    FileManager.default.fileExists(atPath: work.file("started"))
                }
                let busy = started ? try await agent.run("conform_slow") : nil
                _ = FileManager.default.createFile(atPath: work.file("gate"), contents: nil)
                let finished = try #require(try await group.next())
                cases.all.append((run, "post", finished))
                cases.all.append((run, "post", try #require(busy)))
            }
            #expect(
                Set(cases.all.map(\.response.status)) == [200, 400, 401, 404, 405, 409, 413],
                "\(cases.summary)"
            )
            let problems = try OpenAPICheck.validate(cases.all, in: work)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
