import Foundation

/// Responses checked against an OpenAPI document in `openapi/` (status documented for the operation, body
/// valid against its schema, required headers present) with Python's jsonschema.
public enum OpenAPICheck {
    public static let available: Bool = {
        (try? python(["-c", "import yaml, jsonschema"]).status) == 0
    }()

    /// Returns one line per problem (empty when every response conforms).
    public static func validate(
        _ cases: [(template: String, method: String, response: RawHTTPResponse)],
        in work: TempDir,
        document: String = "openapi/ops-agent.yaml"
    ) throws -> [String] {
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
        let output = try python(["-c", script, "\(TestBundleFactory.packageRoot)/\(document)", file])
        guard output.status == 0 else { return ["validator failed: \(output.stderr)"] }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    /// Responses collected for ``validate(_:in:document:)``: each request sent to the server on `port`, filed
    /// under its path template and method.
    public final class Cases: @unchecked Sendable {
        // Driven from one test task at a time.
        public let port: Int
        public var all: [(template: String, method: String, response: RawHTTPResponse)] = []

        public init(port: Int) { self.port = port }

        public func add(
            _ template: String,
            _ method: String,
            _ path: String,
            headers: [(String, String)] = [],
            body: String = ""
        ) async throws {
            let response = try await RawHTTP.send(
                port: port,
                method: method.uppercased(),
                path: path,
                headers: headers,
                body: Array(body.utf8)
            )
            all.append((template, method, response))
        }

        /// The statuses seen, and what answered them, for a failed expectation's message.
        public var summary: String {
            "\(all.map { "\($0.method) \($0.template) \($0.response.status) \($0.response.text.prefix(80))" })"
        }
    }

    public static func python(_ arguments: [String]) throws -> DockerEngine.Output {
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
            body = json.loads(case["body"]) if media.endswith("json") else case["body"]
            try:
                jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
            except jsonschema.ValidationError as error:
                print(f"{where}: {error.message}")
        """#
}
