import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The deploy files name flags and variables the agent really has.
@Suite(.enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"))
struct DeployFilesTests {
    /// `ExecStart` of the systemd unit, with its paths moved to temp directories and a free port.
    @Test func systemdUnitStartsTheAgent() async throws {
        let unit = try String(
            contentsOfFile: "\(TestBundleFactory.packageRoot)/deploy/systemd/zumik-ops-agent.service",
            encoding: .utf8
        )
        let execStart = try #require(
            unit.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
                .first { $0.hasPrefix("ExecStart=") }
        )
        var arguments = execStart.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(arguments.removeFirst() == "/usr/local/bin/zumik-ops-agent")
        let tokenVariable = try #require(
            unit.split(separator: "\n").first { $0.hasPrefix("Environment=OPS_AGENT_TOKEN_FILE=") }
        )
        #expect(!tokenVariable.isEmpty)

        let work = try TempDir()
        defer { work.remove() }
        for name in ["bundles", "keys"] { mkdir(work.file(name), 0o755) }
        let port = try AgentBinary.freePort()
        let replacements = [
            "/etc/zumik/bundles": work.file("bundles"), "/etc/zumik/trusted-keys": work.file("keys"),
            "/var/lib/zumik-ops-agent": work.file("state"), "8787": "\(port)",
            "/run/zumik-ops-agent/agent.sock": work.file("agent.sock"),
        ]
        arguments = arguments.map { replacements[$0] ?? $0 }
        let tokenFile = work.file("token")
        try "deploy-test-token-0123456789\n".write(toFile: tokenFile, atomically: false, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let agent = try AgentProcess(
            arguments: arguments,
            environment: ["OPS_AGENT_TOKEN_FILE": tokenFile],
            port: port,
            stderrPath: work.file("stderr")
        )
        try await agent.waitUntilHealthy()
        let catalog = try await RawHTTP.get(port: port, "/v1/actions", token: "deploy-test-token-0123456789")
        #expect(catalog.status == 200)
        // The unit's Unix socket for nginx is served too, mode 0660.
        let health = try await UnixHTTP.send(path: work.file("agent.sock"), method: "GET", target: "/healthz")
        #expect(health.status == 200)
        var info = stat()
        #expect(stat(work.file("agent.sock"), &info) == 0 && info.st_mode & 0o777 == 0o660)
        await agent.stop()
        #expect(agent.process.terminationStatus == 0)
        // --log-format json, as the unit asks.
        for line in agent.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
    }

    /// Every `ZUMIK_*` / `OPS_AGENT_*` variable the deploy files set is one the agent reads.
    @Test func deployFilesOnlySetKnownVariables() throws {
        let known: Set<String> = [
            "OPS_AGENT_LISTEN", "OPS_AGENT_TOKEN", "OPS_AGENT_TOKEN_FILE", "ZUMIK_BUNDLES_DIR",
            "ZUMIK_TRUSTED_KEYS_DIR",
            "ZUMIK_STATE_DIR", "ZUMIK_AUDIT_LOG", "OPS_AGENT_UNIX_SOCKET", "ZUMIK_DOCKER_HOST", "ZUMIK_LOG_FORMAT",
            "ZUMIK_HEADER_TIMEOUT", "ZUMIK_IDLE_TIMEOUT", "ZUMIK_MAX_CONNECTIONS", "ZUMIK_MAX_CONNECTIONS_PER_CLIENT",
            "ZUMIK_LOG_LEVEL", "ZUMIK_RATE_LIMIT_BURST", "ZUMIK_RATE_LIMIT_PER_SECOND",
            "ZUMIK_RATE_LIMIT_FAILED_AUTH_COST", "ZUMIK_RATE_LIMIT_MAX_CLIENTS",
        ]
        let root = TestBundleFactory.packageRoot
        for file in ["deploy/compose.yaml", "deploy/agent/Dockerfile", "deploy/systemd/zumik-ops-agent.service"] {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            let pattern = try Regex(#"\b((?:ZUMIK|OPS_AGENT)_[A-Z_]+)\s*[:=]"#)
            let names = text.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) }
            #expect(!names.isEmpty, "\(file)")
            for name in names { #expect(known.contains(name), "\(file) sets unknown \(name)") }
        }
        // And the agent reads each of them (the source names them).
        let source = try ["AgentConfiguration.swift", "AgentSettings.swift"].map {
            try String(contentsOfFile: "\(root)/Sources/AgentHost/Config/\($0)", encoding: .utf8)
        }.joined()
        for name in known { #expect(source.contains("\"\(name)\""), "\(name) is not read") }
    }

    /// deploy/nginx/ops.conf in a real nginx in front of the real agent (TLS and the port-80
    /// redirect stripped, ports and the socket moved): only /healthz and /v1/ pass, over the
    /// agent's Unix socket, with the client's address forwarded; limit_req answers 429.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"), "/usr/sbin/nginx is missing"))
    func nginxBlockFrontsTheAgent() async throws {
        let manifest = testManifest(bundleID: "ai.zumik.nginx", actions: [("via_nginx", "echo hi", 10, "via")])
        let work = try TempDir("zumik-nginx")
        defer { work.remove() }
        chmod(work.path, 0o755)
        let socket = work.file("agent.sock")
        try await BinaryAgent.with(
            bundles: [(name: "via", manifest: manifest, plugin: "NginxActions")],
            extraArguments: ["--unix-socket", socket]
        ) { agent in
            let source = try String(
                contentsOfFile: "\(TestBundleFactory.packageRoot)/deploy/nginx/ops.conf",
                encoding: .utf8
            )
            let port = try AgentBinary.freePort()
            var lines: [String] = []
            var skippingRedirect = false
            for line in source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("listen 80;") {
                    skippingRedirect = true
                    if lines.last?.hasPrefix("server {") == true { lines.removeLast() }
                }
                if skippingRedirect {
                    if trimmed == "}" { skippingRedirect = false }
                    continue
                }
                if trimmed.hasPrefix("ssl_") || trimmed.hasPrefix("listen [::]")
                    || trimmed.hasPrefix("add_header Strict")
                {
                    continue
                }
                lines.append(
                    line.replacingOccurrences(of: "listen 443 ssl http2;", with: "listen 127.0.0.1:\(port);")
                        .replacingOccurrences(of: "/run/zumik-ops-agent/agent.sock", with: socket)
                )
                // The test client stands in for the CDN: nginx restores its CF-Connecting-IP.
                if trimmed.hasPrefix("real_ip_header") { lines.append("    set_real_ip_from 127.0.0.1;") }
            }
            let site = lines.joined(separator: "\n")
            try site.write(toFile: work.file("ops.conf"), atomically: false, encoding: .utf8)
            let main = """
                daemon off;
                master_process off;
                pid \(work.file("nginx.pid"));
                error_log \(work.file("error.log")) notice;
                events { worker_connections 64; }
                http {
                    access_log off;
                    client_body_temp_path \(work.file("body"));
                    proxy_temp_path \(work.file("proxy"));
                    fastcgi_temp_path \(work.file("fastcgi"));
                    uwsgi_temp_path \(work.file("uwsgi"));
                    scgi_temp_path \(work.file("scgi"));
                    include \(work.file("ops.conf"));
                }
                """
            try main.write(toFile: work.file("nginx.conf"), atomically: false, encoding: .utf8)
            let nginx = Process()
            nginx.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            nginx.arguments = ["-c", work.file("nginx.conf"), "-p", work.path, "-e", work.file("error.log")]
            nginx.standardOutput = FileHandle.nullDevice
            nginx.standardError = FileHandle.nullDevice
            try nginx.run()
            defer {
                // Foundation.Process passes on the test thread's blocked signals (SIGTERM among
                // them), so stop this single-process nginx with SIGKILL.
                kill(nginx.processIdentifier, SIGKILL)
                nginx.waitUntilExit()
            }
            #expect(try await agent.eventually { (try? await RawHTTP.get(port: port, "/healthz"))?.status == 200 })

            let run = try await RawHTTP.send(
                port: port,
                method: "POST",
                path: "/v1/actions/via_nginx/run",
                headers: [
                    ("Authorization", "Bearer \(BinaryAgent.token)"), ("CF-Connecting-IP", "203.0.113.7"),
                    ("X-Forwarded-For", "198.51.100.99"),
                ]
            )
            #expect(run.status == 200, "\(run.text)")
            let metrics = try await RawHTTP.get(port: port, "/metrics", token: BinaryAgent.token)
            #expect(metrics.status == 404)
            // The agent believed the address nginx forwarded on its Unix socket, not the client's header.
            #expect(try agent.auditRecords().last?["client_ip"] as? String == "203.0.113.7")

            // 30 r/min with a burst of 10: a quick series is cut off by nginx.
            var statuses: [Int] = []
            for _ in 0..<15 { statuses.append(try await RawHTTP.get(port: port, "/healthz").status) }
            #expect(statuses.contains(429), "\(statuses)")
            #expect(statuses.prefix(9).allSatisfy { $0 == 200 }, "\(statuses)")
        }
    }
}
