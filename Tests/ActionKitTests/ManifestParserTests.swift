import ActionKit
import Foundation
import Testing
import ZumikTestSupport

/// A valid manifest to break one field at a time.
private let validManifest = """
    {
      "manifest_version": 1,
      "bundle": {
        "id": "ai.zumik.example",
        "version": "1.0.0",
        "serial": 3,
        "abi": {"major": 1, "minor": 0},
        "artifacts": {"linux-x86_64": {"file": "libExample.so", "sha256": "\(String(repeating: "ab", count: 32))"}}
      },
      "actions": [
        {
          "id": "restart_api_core",
          "title": "Restart api-core",
          "description": "Restarts the api-core container.",
          "kind": "remediation",
          "argv": ["/usr/bin/docker", "restart", "api-core"],
          "timeout_s": 60,
          "kill_grace_s": 5,
          "lock": "docker",
          "limits": {"cooldown_s": 60},
          "targets": ["api-core"],
          "rank": 10,
          "max_output_bytes": 65536
        },
        {
          "id": "service_states",
          "title": "States",
          "description": "Read-only service states.",
          "kind": "diagnostic",
          "argv": ["/usr/bin/docker", "ps"],
          "timeout_s": 30,
          "kill_grace_s": 0,
          "lock": "docker-read",
          "limits": {"max_runs": 10, "window_s": 60},
          "targets": ["api-core", "gateway"],
          "rank": 0,
          "max_output_bytes": 1024
        }
      ]
    }
    """

/// The valid manifest with `old` replaced by `new` (which must occur exactly once).
private func edited(_ old: String, _ new: String) throws -> [UInt8] {
    let parts = validManifest.components(separatedBy: old)
    try #require(parts.count == 2, "fixture edit \(old) must match exactly once")
    return Array(parts.joined(separator: new).utf8)
}

/// Parses `bytes`, expecting failure, and returns the issues.
private func issues(_ bytes: [UInt8]) -> [ManifestError.Issue] {
    do {
        _ = try ManifestParser.parse(bytes, file: "bundles/example/manifest.json")
        Issue.record("expected the manifest to be refused")
        return []
    } catch {
        #expect(error.description.hasPrefix("bundles/example/manifest.json: "))
        return error.issues
    }
}

@Suite struct ManifestParserTests {
    @Test func validManifestParses() throws {
        let manifest = try ManifestParser.parse(Array(validManifest.utf8), file: "m.json")
        #expect(manifest.bundle.id == "ai.zumik.example")
        #expect(manifest.bundle.serial == 3)
        #expect(manifest.bundle.artifacts["linux-x86_64"]?.file == "libExample.so")
        #expect(manifest.actions.map(\.id) == ["restart_api_core", "service_states"])
        #expect(manifest.actions[0].limits == ActionLimits(cooldownS: 60))
        #expect(manifest.actions[1].limits == ActionLimits(maxRuns: 10, windowS: 60))
        #expect(manifest.actions[1].kind == .diagnostic)
    }

    @Test func productionManifestsAreValidOnceFilled() throws {
        for name in ["DockerActions", "NginxActions"] {
            let template = try TestBundleFactory.productionManifest(named: name)
            let filled = try BundlePacker.fill(
                template: Array(template.utf8),
                templatePath: name,
                libraryFileName: "lib\(name).so",
                libraryBytes: [1, 2, 3]
            )
            #expect(filled.manifest.actions.count >= 3)
            #expect(filled.manifest.bundle.id.hasPrefix("ai.zumik."))
            // The signed bytes parse back to the same manifest.
            #expect(try ManifestParser.parse(filled.bytes, file: name) == filled.manifest)
        }
    }

    /// One bad field per class of rule: each names the JSON path and the rule.
    @Test(arguments: [
        ("\"timeout_s\": 60", "\"timeout_s\": \"60\"", "$.actions[0].timeout_s", "must be an integer (got string)"),
        ("\"rank\": 10", "\"rank\": 10, \"shell\": true", "$.actions[0].shell", "unknown key"),
        ("\"serial\": 3", "\"serial\": 3, \"extra\": {}", "$.bundle.extra", "unknown key"),
        (
            "[\"/usr/bin/docker\", \"restart\"", "[\"docker\", \"restart\"", "$.actions[0].argv[0]",
            "must be an absolute path (got \"docker\")"
        ),
        (
            "[\"/usr/bin/docker\", \"restart\", \"api-core\"]", "[]", "$.actions[0].argv",
            "must not be empty"
        ),
        (
            "\"id\": \"service_states\"", "\"id\": \"restart_api_core\"", "$.actions[1].id",
            "duplicate action id \"restart_api_core\""
        ),
        (
            "\"id\": \"restart_api_core\"", "\"id\": \"Restart-API\"", "$.actions[0].id",
            "must match ^[a-z][a-z0-9_]{0,63}$"
        ),
        (
            "\"id\": \"restart_api_core\"", "\"id\": \"\(String(repeating: "a", count: 65))\"", "$.actions[0].id",
            "must match ^[a-z][a-z0-9_]{0,63}$"
        ),
        (
            "Restarts the api-core container.", "Restarts\\u0007 the container.", "$.actions[0].description",
            "control character U+0007"
        ),
        (
            "Restarts the api-core container.", "Restarts\\u200b the container.", "$.actions[0].description",
            "zero-width or invisible character U+200B"
        ),
        (
            "Restarts the api-core container.", "Restarts \\u202e the container.", "$.actions[0].description",
            "bidirectional control character U+202E"
        ),
        (
            "Restarts the api-core container.", "Redémarre le conteneur.", "$.actions[0].description",
            "non-ASCII character U+00E9"
        ),
        (
            "Restarts the api-core container.", String(repeating: "x", count: 301), "$.actions[0].description",
            "at most 300 characters (got 301)"
        ),
        ("\"timeout_s\": 60", "\"timeout_s\": 0", "$.actions[0].timeout_s", "must be between 1 and 3600 (got 0)"),
        ("\"timeout_s\": 60", "\"timeout_s\": 3601", "$.actions[0].timeout_s", "must be between 1 and 3600 (got 3601)"),
        ("\"timeout_s\": 60", "\"timeout_s\": 1.5", "$.actions[0].timeout_s", "must be an integer (got 1.5)"),
        ("\"kill_grace_s\": 5", "\"kill_grace_s\": 61", "$.actions[0].kill_grace_s", "between 0 and 60"),
        (
            "\"max_output_bytes\": 65536", "\"max_output_bytes\": 0", "$.actions[0].max_output_bytes",
            "between 1 and 1048576"
        ),
        ("\"rank\": 10", "\"rank\": -1", "$.actions[0].rank", "must be between 0"),
        (
            "\"kind\": \"remediation\"", "\"kind\": \"fix\"", "$.actions[0].kind",
            "must be \"diagnostic\" or \"remediation\""
        ),
        (
            "\"cooldown_s\": 60", "\"max_runs\": 3", "$.actions[0].limits",
            "max_runs and window_s must be given together"
        ),
        ("{\"cooldown_s\": 60}", "{}", "$.actions[0].limits", "must set cooldown_s, or max_runs with window_s"),
        ("[\"api-core\"]", "[]", "$.actions[0].targets", "must name at least one service"),
        ("[\"api-core\"]", "[\"\"]", "$.actions[0].targets[0]", "must match"),
        (
            "\"restart\", \"api-core\"", "\"restart\", \"{{service}}\"", "$.actions[0].argv[2]",
            "placeholder syntax '{' is not allowed"
        ),
        ("\"restart\", \"api-core\"", "\"restart\", \"$SERVICE\"", "$.actions[0].argv[2]", "placeholder syntax '$'"),
        ("\"restart\", \"api-core\"", "\"restart\", \"%s\"", "$.actions[0].argv[2]", "placeholder syntax '%'"),
        ("\"restart\", \"api-core\"", "\"restart\", \"<service>\"", "$.actions[0].argv[2]", "placeholder syntax '<…>'"),
        ("\"restart\", \"api-core\"", "\"restart\", \"\"", "$.actions[0].argv[2]", "must not be empty"),
        ("\"restart\", \"api-core\"", "\"restart\", \"a\\u0000b\"", "$.actions[0].argv[2]", "control character U+0000"),
        ("\"restart\", \"api-core\"", "\"restart\", 7", "$.actions[0].argv[2]", "must be a string (got number)"),
        ("\"/usr/bin/docker\", \"ps\"", "\"/usr/bin/../bin/docker\", \"ps\"", "$.actions[1].argv[0]", "normalized"),
        ("\"id\": \"ai.zumik.example\"", "\"id\": \"example\"", "$.bundle.id", "reverse-DNS"),
        ("\"serial\": 3", "\"serial\": 0", "$.bundle.serial", "must be at least 1 (got 0)"),
        (
            "\"file\": \"libExample.so\"", "\"file\": \"../libExample.so\"", "$.bundle.artifacts.linux-x86_64.file",
            "plain file name"
        ),
        ("\"manifest_version\": 1", "\"manifest_version\": 2", "$.manifest_version", "must be 1 (got 2)"),
        ("\"lock\": \"docker\"", "\"lock\": \"\"", "$.actions[0].lock", "must match"),
        ("\"title\": \"States\"", "\"title\": true", "$.actions[1].title", "must be a string (got boolean)"),
        ("\"title\": \"States\"", "\"title\": \"   \"", "$.actions[1].title", "must not be empty or only spaces"),
        ("\"version\": \"1.0.0\"", "\"version\": \"\"", "$.bundle.version", "must not be empty or only spaces"),
        ("\"lock\": \"docker\",", "", "$.actions[0].lock", "required key is missing"),
    ])
    func badFieldIsNamedWithPathAndRule(old: String, new: String, path: String, rule: String) throws {
        let found = issues(try edited(old, new))
        #expect(
            found.contains { $0.path == path && $0.message.contains(rule) },
            "expected \(path): …\(rule)… in \(found)"
        )
    }

    @Test func everyIssueIsReportedNotOnlyTheFirst() throws {
        var bytes = try edited("\"timeout_s\": 60", "\"timeout_s\": 0")
        bytes = Array(
            String(decoding: bytes, as: UTF8.self)
                .replacingOccurrences(of: "\"rank\": 0", with: "\"rank\": -5")
                .replacingOccurrences(of: "\"kind\": \"diagnostic\"", with: "\"kind\": 1")
                .utf8
        )
        let paths = issues(bytes).map(\.path)
        #expect(paths == ["$.actions[0].timeout_s", "$.actions[1].kind", "$.actions[1].rank"])
    }

    @Test func oversizedManifestIsRefusedBeforeParsing() {
        let bytes = [UInt8](repeating: UInt8(ascii: " "), count: ManifestParser.maxBytes + 1)
        let found = issues(bytes)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("over the \(ManifestParser.maxBytes)-byte limit") == true)
    }

    @Test(arguments: [
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("{\"a\": 1,}", "expected a key"),
        ("[1, 2", "unexpected end of data"),
        ("{\"a\": tru}", "invalid literal"),
        ("{} x", "unexpected data after the document"),
        ("\u{FEFF}{}", "unexpected character"),
        ("{\"a\": \"\\ud800\"}", "unpaired surrogate"),
        ("{\"a\": 01}", "expected ','"),
    ])
    func malformedJSONIsRefusedWithOffset(text: String, message: String) {
        let found = issues(Array(text.utf8))
        #expect(found.count == 1)
        #expect(found.first?.path == "$")
        #expect(found.first?.message.contains(message) == true, "\(found)")
    }

    @Test func deepNestingIsRefused() {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(issues(Array(text.utf8)).first?.message.contains("nested deeper") == true)
    }

    @Test func jsonEscapesAreDecoded() throws {
        let bytes = try edited("Restarts the api-core container.", "Restarts the \\\"api-core\\\" container\\/now.")
        let manifest = try ManifestParser.parse(bytes, file: "m.json")
        #expect(manifest.actions[0].description == "Restarts the \"api-core\" container/now.")
    }
}

/// A small deterministic generator, so a failing case can be replayed from its seed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ManifestParserMutationTests {
    /// Random byte edits of a real manifest never crash the parser, and every refusal has issues with paths.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func mutatedManifestsAreParsedOrRefusedCleanly(seed: UInt64) throws {
        let template = try TestBundleFactory.productionManifest(named: "DockerActions")
        let valid = try BundlePacker.fill(
            template: Array(template.utf8),
            templatePath: "t",
            libraryFileName: "libDockerActions.so",
            libraryBytes: [0]
        ).bytes
        var random = SplitMix64(state: seed)
        let alphabet = Array("{}[]\":,0123456789-.eE truefalsnul\\u200b/\u{7}".utf8) + [0x00, 0xC3, 0xFF]
        var refused = 0
        for _ in 0..<400 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                default: bytes.remove(at: index)
                }
            }
            do {
                _ = try ManifestParser.parse(bytes, file: "fuzz.json")
            } catch {
                refused += 1
                #expect(!error.issues.isEmpty)
                #expect(error.issues.allSatisfy { $0.path.hasPrefix("$") && !$0.message.isEmpty })
            }
        }
        #expect(refused > 300, "most random edits break a manifest")
    }
}

/// Issue #12, finding 10: "no shell, ever" holds for signed manifests too.
@Suite struct InterpreterRuleTests {
    @Test(
        "Shells, interpreters and command runners are refused as argv[0], naming the rule and path",
        arguments: [
            (#"["/bin/sh", "-c", "id"]"#, "must not be a shell (sh)"),
            (#"["/usr/bin/bash", "run"]"#, "must not be a shell (bash)"),
            (#"["/bin/dash"]"#, "must not be a shell (dash)"),
            (#"["/usr/bin/zsh"]"#, "must not be a shell (zsh)"),
            (#"["/bin/busybox", "sh"]"#, "must not be a command runner (busybox)"),
            (#"["/usr/bin/env", "sh"]"#, "must not be a command runner (env)"),
            (#"["/usr/bin/python3.12", "-c", "print(1)"]"#, "must not be an interpreter (python3.12)"),
            (#"["/usr/bin/perl", "x.pl"]"#, "must not be an interpreter (perl)"),
            (#"["/usr/bin/ruby3.1"]"#, "must not be an interpreter (ruby3.1)"),
            (#"["/usr/bin/node"]"#, "must not be an interpreter (node)"),
            (#"["/usr/bin/php8.2"]"#, "must not be an interpreter (php8.2)"),
            (#"["/usr/bin/lua5.4"]"#, "must not be an interpreter (lua5.4)"),
        ]
    )
    func interpreterAsExecutableIsRefused(argv: String, rule: String) throws {
        let found = issues(try edited(#"["/usr/bin/docker", "ps"]"#, argv))
        #expect(found.map(\.path) == ["$.actions[1].argv[0]"], "\(found)")
        #expect(found.first?.message.contains(rule) == true, "\(found)")
    }

    @Test func aShellWithInlineCodeFurtherDownTheArgvIsRefused() throws {
        let found = issues(
            try edited(#"["/usr/bin/docker", "ps"]"#, #"["/usr/bin/docker", "exec", "box", "sh", "-c", "id"]"#)
        )
        #expect(found.map(\.path) == ["$.actions[1].argv[3]"], "\(found)")
        #expect(found.first?.message.contains("must not start inline code (sh -c)") == true, "\(found)")
    }

    @Test func ordinaryProgramsAreAccepted() throws {
        for argv in [
            #"["/usr/bin/docker", "exec", "nginx", "nginx", "-t"]"#, #"["/usr/bin/shred"]"#,
            #"["/usr/bin/pythonic-tool"]"#,
            #"["/usr/bin/phpstan"]"#, #"["/usr/bin/envsubst"]"#, #"["/usr/bin/docker", "logs", "sh"]"#,
        ] {
            #expect(throws: Never.self, "\(argv)") {
                try ManifestParser.parse(try edited(#"["/usr/bin/docker", "ps"]"#, argv), file: "m.json")
            }
        }
    }
}
