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
            var cases: [(template: String, method: String, response: RawHTTPResponse)] = []
            func add(
                _ template: String,
                _ method: String,
                _ path: String,
                headers: [(String, String)] = [],
                body: String = ""
            )
                async throws
            {
                let response = try await RawHTTP.send(
                    port: agent.port,
                    method: method.uppercased(),
                    path: path,
                    headers: headers,
                    body: Array(body.utf8)
                )
                cases.append((template, method, response))
            }
            let run = "/v1/actions/{id}/run"
            try await add("/healthz", "get", "/healthz")
            try await add("/metrics", "get", "/metrics", headers: token)
            try await add("/v1/actions", "get", "/v1/actions", headers: token)
            try await add("/v1/actions", "get", "/v1/actions")
            try await add(run, "post", "/v1/actions/conform_echo/run", headers: token + json, body: #"{"reason":"r"}"#)
            try await add(run, "post", "/v1/actions/conform_echo/run", headers: token)
            try await add(run, "post", "/v1/actions/no_such/run", headers: token)
            try await add(run, "post", "/v1/actions/..%2F/run", headers: token)
            try await add(run, "post", "/v1/actions/conform_echo/run", headers: token + json, body: "{")
            try await add(run, "post", "/v1/actions/conform_echo/run", headers: token + json, body: #"{"x":1}"#)
            try await add(
                run,
                "post",
                "/v1/actions/conform_echo/run",
                headers: token + json,
                body: #"{"reason":""# + String(repeating: "a", count: 5000) + #""}"#
            )
            try await add(run, "post", "/v1/actions/conform_echo/run", headers: [("Authorization", "Basic x")])
            try await add(run, "get", "/v1/actions/conform_echo/run", headers: token)
            try await add("/v1/audit", "get", "/v1/audit?limit=3", headers: token)
            try await add("/v1/audit", "get", "/v1/audit?limit=0", headers: token)
            try await add("/v1/audit", "get", "/v1/audit", headers: token)
            // 409: the lock is held by a run in flight.
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                group.addTask { try await agent.run("conform_slow") }
                let started = try await agent.eventually {
                    FileManager.default.fileExists(atPath: work.file("started"))
                }
                let busy = started ? try await agent.run("conform_slow") : nil
                _ = FileManager.default.createFile(atPath: work.file("gate"), contents: nil)
                let finished = try #require(try await group.next())
                cases.append((run, "post", finished))
                cases.append((run, "post", try #require(busy)))
            }
            #expect(
                Set(cases.map(\.response.status)) == [200, 400, 401, 404, 405, 409, 413],
                "\(cases.map { "\($0.method) \($0.template) \($0.response.status) \($0.response.text.prefix(80))" })"
            )
            let problems = try OpenAPICheck.validate(cases, in: work)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}

enum OpenAPICheck {
    static let available: Bool = {
        (try? python(["-c", "import yaml, jsonschema"]).status) == 0
    }()

    /// Returns one line per problem (empty when every response conforms).
    static func validate(_ cases: [(template: String, method: String, response: RawHTTPResponse)], in work: TempDir)
        throws -> [String]
    {
        let payload: [[String: Any]] = cases.map { entry in
            [
                "path": entry.template, "method": entry.method, "status": "\(entry.response.status)",
                "headers": Dictionary(
                    entry.response.headers.map { ($0.0.lowercased(), $0.1) },
                    uniquingKeysWith: { $1 }
                ),
                "body": entry.response.text,
            ]
        }
        let file = work.file("cases.json")
        try JSONSerialization.data(withJSONObject: payload).write(to: URL(fileURLWithPath: file))
        let output = try python(["-c", script, "\(TestBundleFactory.packageRoot)/openapi/ops-agent.yaml", file])
        guard output.status == 0 else { return ["validator failed: \(output.stderr)"] }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    static func python(_ arguments: [String]) throws -> DockerEngine.Output {
        try DockerEngine.runBlocking(arguments, executable: "/usr/bin/env", prefix: ["python3"])
    }

    static let script = #"""
        import json, sys, yaml, jsonschema
        doc = yaml.safe_load(open(sys.argv[1]))
        cases = json.load(open(sys.argv[2]))
        def deref(obj):
            while isinstance(obj, dict) and "$ref" in obj and len(obj) == 1:
                node = doc
                for part in obj["$ref"].lstrip("#/").split("/"):
                    node = node[part]
                obj = node
            return obj
        for case in cases:
            where = f'{case["method"].upper()} {case["path"]} -> {case["status"]}'
            item = doc["paths"][case["path"]]
            # A 405 answers a method the path does not have: check it against the path's operation.
            operation = item.get(case["method"]) or (next(iter(item.values())) if case["status"] == "405" else None)
            if operation is None:
                print(f"{where}: method not documented"); continue
            response = operation["responses"].get(case["status"])
            if response is None:
                print(f"{where}: status not documented"); continue
            response = deref(response)
            for name in response.get("headers", {}):
                if name.lower() not in case["headers"]:
                    print(f"{where}: header {name} missing")
            content = response.get("content", {})
            if not content:
                continue
            media = next(iter(content))
            if not case["headers"].get("content-type", "").startswith(media):
                print(f'{where}: content-type {case["headers"].get("content-type")} is not {media}')
            schema = content[media].get("schema", {})
            body = json.loads(case["body"]) if media == "application/json" else case["body"]
            try:
                jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
            except jsonschema.ValidationError as error:
                print(f"{where}: {error.message}")
        """#
}
