import ActionKit
import AgentHost
import BundleLoading
import Foundation
import Testing
import ZumikTestSupport

/// The bundles' readers, called through the real ABI of the dlopened libraries.
@Suite struct PluginReaderTests {
    /// Loads both production bundles once per test and returns the registry.
    private func withBundles(_ body: (BundleRegistry) throws -> Void) throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        try fixture.pack("NginxActions", into: "nginx")
        let registry = fixture.registry()
        try #require(registry.reload().refused == [])
        try body(registry)
    }

    private func read(
        _ registry: BundleRegistry,
        _ id: String,
        exit: Int32? = 0,
        signal: Int32? = nil,
        stdout: String = "",
        stderr: String = ""
    ) throws -> [String: JSONValue] {
        let action = try #require(registry.action(id: id))
        return try jsonObject(
            action.interpret(exitCode: exit, signal: signal, stdout: Array(stdout.utf8), stderr: Array(stderr.utf8))
        )
    }

    private func services(_ reading: [String: JSONValue]) -> [[String: JSONValue]] {
        guard case .array(let list) = reading["services"] else { return [] }
        return list.compactMap { if case .object(let o) = $0 { o } else { nil } }
    }

    @Test func composePsOneObjectPerLine() throws {
        try withBundles { registry in
            let stdout = """
                {"Command":"\\"/app\\"","Name":"zumik-api-core-1","Service":"api-core","State":"running","Health":"healthy","ExitCode":0,"Publishers":[]}
                {"Name":"zumik-gateway-1","Service":"gateway","State":"exited","Health":"","ExitCode":2}
                {"Name":"zumik-nginx-1","Service":"nginx","State":"restarting","Health":"starting","ExitCode":1}
                """
            let reading = try read(registry, "docker_service_states", stdout: stdout)
            #expect(reading["ok"] == .bool(true))
            #expect(
                reading["summary"]
                    == .string("api-core: running (healthy); gateway: exited (exit 2); nginx: restarting (starting)")
            )
            let list = services(reading)
            #expect(list.count == 3)
            #expect(list[1]["exit_code"] == .number(2))
            #expect(list[1]["health"] == nil)
            #expect(list[0]["name"] == .string("zumik-api-core-1"))
            #expect(list[0]["Command"] == nil, "only the compact fields are kept")
            #expect(reading["unread_lines"] == .number(0))
        }
    }

    @Test func composePsFieldsOfUnexpectedTypesAreTreatedAsAbsent() throws {
        try withBundles { registry in
            let stdout = """
                {"Name":"a","Service":"api-core","State":"exited","Health":null,"ExitCode":"3"}
                {"Name":7,"Service":"gateway","State":["x"],"ExitCode":1.5}
                """
            let reading = try read(registry, "docker_service_states", stdout: stdout)
            #expect(reading["summary"] == .string("api-core: exited (exit 3); gateway: unknown"))
            #expect(reading["unread_lines"] == .number(0))
        }
    }

    @Test func logsLoseTerminalEscapes() throws {
        try withBundles { registry in
            let reading = try read(registry, "gateway_logs", stderr: "\u{1B}[31mERROR\u{1B}[0m upstream down\r\n")
            guard case .object(let tail) = reading["stderr"] else {
                Issue.record("no stderr tail in \(reading)")
                return
            }
            #expect(tail["text"] == .string("ERROR upstream down"))
        }
    }

    @Test func composePsArrayFormat() throws {
        try withBundles { registry in
            let stdout = #"[{"Name":"a","Service":"api-core","State":"running","Health":"unhealthy","ExitCode":0}]"#
            let reading = try read(registry, "docker_service_states", stdout: stdout)
            #expect(reading["summary"] == .string("api-core: running (unhealthy)"))
            #expect(services(reading).count == 1)
        }
    }

    @Test func composePsGarbageIsReportedNotFatal() throws {
        try withBundles { registry in
            let garbage = try read(registry, "docker_service_states", stdout: "no configuration file provided\n{oops\n")
            #expect(garbage["ok"] == .bool(false))
            #expect(garbage["unread_lines"] == .number(2))
            #expect(garbage["summary"] == .string("no services"))
            let mixed = try read(
                registry,
                "docker_service_states",
                stdout: "WARN something\n{\"Name\":\"g\",\"Service\":\"gateway\",\"State\":\"running\"}\n[1,2\n"
            )
            #expect(mixed["ok"] == .bool(true))
            #expect(mixed["unread_lines"] == .number(2))
            #expect(services(mixed).count == 1)
            let failed = try read(
                registry,
                "docker_service_states",
                exit: 1,
                stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n"
            )
            #expect(failed["ok"] == .bool(false))
            #expect(failed["error"] == .string("Cannot connect to the Docker daemon at unix:///var/run/docker.sock"))
            let empty = try read(registry, "docker_service_states", stdout: "")
            #expect(empty["summary"] == .string("no services"))
        }
    }

    @Test func logsAreBoundedAndRedacted() throws {
        try withBundles { registry in
            var lines = (1...500).map { "line \($0) ok" }
            lines[498] = "GET /v2 Authorization: Bearer abcDEF123.456-ghi~jkl password=hunter2&next=1"
            lines[499] = "db postgres://zumik:s3cr3t-pw@db:5432/app key sk-proj-AbCdEfGh12345678 done"
            let reading = try read(registry, "api_core_logs", stdout: lines.joined(separator: "\n") + "\n")
            guard case .object(let tail) = reading["stdout"], case .string(let text) = tail["text"] else {
                Issue.record("no stdout tail in \(reading)")
                return
            }
            #expect(tail["lines"] == .number(200))
            #expect(tail["total_lines"] == .number(500))
            #expect(tail["truncated"] == .bool(true))
            #expect(text.hasPrefix("line 301 ok\n"))
            for secret in ["abcDEF123.456-ghi~jkl", "hunter2", "s3cr3t-pw", "sk-proj-AbCdEfGh12345678"] {
                #expect(!text.contains(secret), "\(secret) leaked")
            }
            #expect(text.contains("Bearer [REDACTED]"))
            #expect(text.contains("postgres://zumik:[REDACTED]@db:5432/app"))
            #expect(text.contains("password=[REDACTED]&next=1"))
            #expect(text.contains("[REDACTED] done"))
        }
    }

    /// Issue 12, finding 1: an attacker-written 8 KB / 16 KB line took the shipped reader 32 s / 129 s.
    @Test(arguments: [8 * 1024, 16 * 1024])
    func aHostileLogLineIsRedactedFast(size: Int) throws {
        try withBundles { registry in
            let line = "GET /" + String(repeating: "a-", count: size / 2) + "token"
            let start = ContinuousClock.now
            let reading = try read(registry, "api_core_logs", stdout: line + "\nAuthorization: Bearer abcdefghijkl\n")
            let elapsed = start.duration(to: .now)
            print("api_core_logs: a hostile \(line.utf8.count)-byte line read and redacted in \(elapsed)")
            #expect(elapsed < .seconds(1), "the issue's bar is 100 ms; this bound is generous for a debug build")
            guard case .object(let tail) = reading["stdout"], case .string(let text) = tail["text"] else {
                Issue.record("no stdout tail in \(reading)")
                return
            }
            #expect(text.contains("Bearer [REDACTED]"))
            #expect(!text.contains("abcdefghijkl"))
        }
    }

    @Test func nginxConfigTestOkAndFailed() throws {
        try withBundles { registry in
            let ok = try read(
                registry,
                "nginx_config_test",
                stderr: """
                    nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
                    nginx: configuration file /etc/nginx/nginx.conf test is successful
                    """
            )
            #expect(ok["ok"] == .bool(true))
            #expect(ok["errors"] == .array([]))
            let failed = try read(
                registry,
                "nginx_config_test",
                exit: 1,
                stderr: """
                    nginx: [warn] the "ssl" directive is deprecated in /etc/nginx/conf.d/a.conf:4
                    nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/api.conf:12
                    nginx: configuration file /etc/nginx/nginx.conf test failed
                    """
            )
            #expect(failed["ok"] == .bool(false))
            #expect(
                failed["errors"]
                    == .array([
                        .string("[emerg] unknown directive \"proxy_passs\" in /etc/nginx/conf.d/api.conf:12"),
                        .string("configuration file /etc/nginx/nginx.conf test failed"),
                    ])
            )
            #expect(
                failed["warnings"]
                    == .array([.string("[warn] the \"ssl\" directive is deprecated in /etc/nginx/conf.d/a.conf:4")])
            )
            let killed = try read(registry, "nginx_config_test", exit: nil, signal: 9)
            #expect(killed["ok"] == .bool(false))
            #expect(killed["errors"] == .array([.string("killed by signal 9")]))
            // Exit 0 without nginx's success line is not trusted as ok.
            let silent = try read(registry, "nginx_config_test", stderr: "")
            #expect(silent["ok"] == .bool(false))
        }
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"),
            "/usr/sbin/nginx is not installed"
        )
    )
    func nginxReaderUnderstandsRealNginxOutput() throws {
        try withBundles { registry in
            let fixture = try TestBundleFactory()
            defer { fixture.remove() }
            let prefix = fixture.root
            try Data(
                """
                worker_processes 1;
                pid \(prefix)/nginx.pid;
                events {}
                http { server { listen 127.0.0.1:1; location / { return 200 "ok"; } } }
                """.utf8
            ).write(to: URL(fileURLWithPath: "\(prefix)/good.conf"))
            try Data(
                """
                events {}
                http { server { listen 127.0.0.1:1; proxy_passs x; } }
                """.utf8
            ).write(to: URL(fileURLWithPath: "\(prefix)/bad.conf"))
            try FileManager.default.createDirectory(atPath: "\(prefix)/logs", withIntermediateDirectories: true)
            let action = try #require(registry.action(id: "nginx_config_test"))
            for (file, stderrTarget) in [
                ("good.conf", ["-e", "stderr"]), ("bad.conf", ["-e", "stderr"]), ("bad.conf", []),
            ] {
                let result = try runCommand(
                    ["/usr/sbin/nginx", "-t", "-c", "\(prefix)/\(file)", "-p", "\(prefix)/"] + stderrTarget
                )
                let reading = try jsonObject(
                    action.interpret(exitCode: result.status, signal: nil, stdout: result.stdout, stderr: result.stderr)
                )
                if file == "good.conf" {
                    #expect(result.status == 0)
                    #expect(reading["ok"] == .bool(true), "\(reading)")
                    #expect(reading["errors"] == .array([]))
                } else {
                    #expect(result.status != 0)
                    #expect(reading["ok"] == .bool(false))
                    guard case .array(let errors) = reading["errors"] else {
                        Issue.record("no errors in \(reading)")
                        continue
                    }
                    #expect(
                        errors.first
                            == .string("[emerg] unknown directive \"proxy_passs\" in \(prefix)/bad.conf:2"),
                        "\(errors)"
                    )
                    #expect(errors.contains { $0 == .string("configuration file \(prefix)/bad.conf test failed") })
                }
            }
        }
    }

    @Test func nginxErrorLogCountsLevels() throws {
        try withBundles { registry in
            let stdout = """
                2026/11/28 23:59:00 [error] 7#7: *1 connect() failed (111: Connection refused) while connecting to upstream
                2026/11/28 23:59:01 [error] 7#7: *2 upstream timed out, client: 10.0.0.1, request: "GET /v2?token=abc123secret HTTP/1.1"
                2026/11/28 23:59:02 [warn] 7#7: an upstream response is buffered
                """
            let reading = try read(registry, "nginx_error_log", stdout: stdout)
            #expect(reading["levels"] == .object(["error": .number(2), "warn": .number(1)]))
            guard case .object(let tail) = reading["tail"], case .string(let text) = tail["text"] else {
                Issue.record("no tail")
                return
            }
            #expect(!text.contains("abc123secret"))
            #expect(text.contains("token=[REDACTED]"))
        }
    }

    @Test func readersGiveTheSameAnswerFromManyThreads() async throws {
        let fixture = try BundleFixture()
        defer { fixture.remove() }
        try fixture.pack("DockerActions", into: "docker")
        let registry = fixture.registry()
        registry.reload()
        let action = try #require(registry.action(id: "api_core_logs"))
        let stdout = Array(
            (1...100).map { "req \($0) Authorization: Bearer tok\($0)abcdef password=pw\($0)" }
                .joined(separator: "\n").utf8
        )
        let expected = action.interpret(exitCode: 0, signal: nil, stdout: stdout, stderr: [])
        #expect(expected != nil)
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<4).allSatisfy { _ in
                        action.interpret(exitCode: 0, signal: nil, stdout: stdout, stderr: []) == expected
                    }
                }
            }
            for await same in group {
                #expect(same)
            }
        }
    }

    @Test func remediationReadingAndUnknownAction() throws {
        try withBundles { registry in
            let ok = try read(registry, "restart_api_core", stdout: "api-core\n")
            #expect(ok == ["ok": .bool(true)])
            let failed = try read(registry, "restart_gateway", exit: 1, stderr: "Error: No such container: gateway\n")
            #expect(failed["ok"] == .bool(false))
            #expect(failed["error"] == .string("Error: No such container: gateway"))
            // The plugin has nothing to say about an action that is not its own.
            let image = try #require(registry.loadedImages().first)
            #expect(image.interpret(actionID: "not_mine", exitCode: 0, signal: nil, stdout: [], stderr: []) == nil)
        }
    }
}
