import ActionKit
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #12, finding 10: run bodies are parsed as strictly as manifests, and a signed manifest
/// may not name a shell.
@Suite struct StrictInputTests {
    @Test(
        "Bad run bodies are refused with a message naming the problem",
        arguments: [
            (#"{"reason": "a", "reason": "b"}"#, 400, #"duplicate key "reason""#),
            (#"{"reason": "a", "incident": "1", "incident": "2"}"#, 400, #"duplicate key "incident""#),
            (#"{"reason": "a", "argv": ["/bin/sh"]}"#, 400, "unknown key 'argv'"),
            (#"{"reason": 5}"#, 400, "'reason' must be a string (got number)"),
            (#"["reason"]"#, 400, "must be a JSON object"),
            (#"{"reason": "a",}"#, 400, "invalid JSON at byte"),
            (#"{"incident": "\#(String(repeating: "9", count: 65))"}"#, 400, "'incident' longer than 64"),
            (#"{"reason": "\#(String(repeating: "x", count: 5000))"}"#, 413, "larger than 4096 bytes"),
        ]
    )
    func badRunBodiesAreRefused(body: String, status: Int, message: String) async throws {
        try await InProcessAgent.with(actions: [shellAction("noop", "true")]) { agent in
            let response = try await RawHTTP.post(
                port: agent.port,
                "/v1/actions/noop/run",
                token: testToken,
                json: body
            )
            #expect(response.status == status, "\(response.text)")
            #expect(response.errorMessage?.contains(message) == true, "\(response.text)")
            #expect(try agent.auditRecords().allSatisfy { $0["outcome"] as? String != "succeeded" }, "nothing ran")
        }
    }

    @Test func aGoodRunBodyIsKept() async throws {
        try await InProcessAgent.with(actions: [shellAction("noop", "true")]) { agent in
            let response = try await RawHTTP.post(
                port: agent.port,
                "/v1/actions/noop/run",
                token: testToken,
                json: #"{"reason": "probe failed", "incident": "42"}"#
            )
            #expect(response.status == 200, "\(response.text)")
            let record = try #require(try agent.auditRecords().last)
            #expect(record["reason"] as? String == "probe failed")
            #expect(record["incident"] as? String == "42")
        }
    }
}

/// The same refusals from the real binary over real bundles.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct StrictInputBinaryTests {
    @Test func duplicateKeyBodyAndShellManifestAreRefused() async throws {
        let good = testManifest(bundleID: "ai.zumik.nginx", actions: [("noop", "true", 10, "noop")])
        let shell = testManifest(bundleID: "ai.zumik.docker", actions: [("shell_out", "id", 10, "shell")])
        try await BinaryAgent.with(bundles: [
            (name: "good", manifest: good, plugin: "NginxActions"),
            (name: "shell", manifest: shell, plugin: "DockerActions"),
        ]) { agent in
            // A key holder signs a manifest whose argv is `/bin/sh -c id` (the packer would refuse it).
            let manifestPath = "\(agent.factory.bundlesDirectory)/shell/manifest.json"
            let signed = try String(contentsOfFile: manifestPath, encoding: .utf8)
            let hostile = signed.replacingOccurrences(
                of: "\"\(testScriptFile("id"))\"",
                with: #""/bin/sh", "-c", "id""#
            )
            try #require(hostile != signed, "the fixture edit took")
            try hostile.write(toFile: manifestPath, atomically: true, encoding: .utf8)
            let signature = try agent.key.sign(manifest: Array(hostile.utf8))
            try Data(signature.fileBytes).write(
                to: URL(fileURLWithPath: "\(agent.factory.bundlesDirectory)/shell/manifest.sig")
            )
            kill(agent.process.pid, SIGHUP)
            #expect(try await agent.eventually { try await agent.catalogIDs() == ["noop"] })

            let duplicate = try await agent.run("noop", json: #"{"reason": "first", "reason": "second"}"#)
            #expect(duplicate.status == 400)
            #expect(duplicate.errorMessage?.contains(#"duplicate key "reason""#) == true, "\(duplicate.text)")

            let catalog = try await agent.get("/v1/actions").json()
            let refused = try #require((catalog["refused_bundles"] as? [[String: Any]])?.first)
            #expect(refused["directory"] as? String == "shell")
            #expect(refused["step"] as? String == "manifest")
            let reason = refused["reason"] as? String ?? ""
            #expect(reason.contains("$.actions[0].argv[0]: must not be a shell (sh)"), "\(reason)")
            #expect(try await agent.catalogIDs() == ["noop"])
        }
    }
}
