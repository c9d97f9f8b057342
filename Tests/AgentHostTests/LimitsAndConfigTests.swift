import ActionKit
import AgentHost
import Foundation
import Synchronization
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let current = Mutex(ContinuousClock.now)
    func now() -> ContinuousClock.Instant { current.withLock { $0 } }
    func advance(_ duration: Duration) { current.withLock { $0 += duration } }
}

@Suite struct LimitsTests {
    @Test func runLimiterCooldownAndWindow() {
        let clock = ManualClock()
        let limiter = RunLimiter(now: { clock.now() })
        let cooldown = ActionLimits(cooldownS: 60)
        #expect(limiter.admit(actionID: "a", limits: cooldown) == .allowed)
        #expect(limiter.admit(actionID: "a", limits: cooldown) == .refused(retryAfterSeconds: 60, rule: "cooldown"))
        clock.advance(.seconds(59.5))
        #expect(limiter.admit(actionID: "a", limits: cooldown) == .refused(retryAfterSeconds: 1, rule: "cooldown"))
        clock.advance(.seconds(0.5))
        #expect(limiter.admit(actionID: "a", limits: cooldown) == .allowed)
        // Another action is independent.
        #expect(limiter.admit(actionID: "b", limits: cooldown) == .allowed)

        let window = ActionLimits(maxRuns: 3, windowS: 100)
        for _ in 0..<3 {
            #expect(limiter.admit(actionID: "w", limits: window) == .allowed)
            clock.advance(.seconds(10))
        }
        #expect(
            limiter.admit(actionID: "w", limits: window) == .refused(retryAfterSeconds: 70, rule: "max_runs_per_window")
        )
        clock.advance(.seconds(70))
        #expect(limiter.admit(actionID: "w", limits: window) == .allowed)
        #expect(limiter.admit(actionID: "free", limits: ActionLimits()) == .allowed)
        #expect(limiter.admit(actionID: "free", limits: ActionLimits()) == .allowed)
    }

    @Test func tokenBucketRefillsAndPenalizes() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(
            configuration: .init(burst: 3, refillPerSecond: 1, failedAuthCost: 4, maxTrackedClients: 10),
            now: { clock.now() }
        )
        #expect(limiter.take(client: "10.0.0.1") == nil)
        #expect(limiter.take(client: "10.0.0.1") == nil)
        #expect(limiter.take(client: "10.0.0.1") == nil)
        #expect(limiter.take(client: "10.0.0.1") == 1)
        clock.advance(.seconds(1))
        #expect(limiter.take(client: "10.0.0.1") == nil)
        limiter.penalize(client: "10.0.0.1")
        #expect(limiter.take(client: "10.0.0.1") == 5)
        #expect(limiter.take(client: "10.0.0.2") == nil)
    }

    @Test func rateLimiterMemoryStaysBounded() {
        let clock = ManualClock()
        let limiter = ClientRateLimiter(
            configuration: .init(burst: 5, refillPerSecond: 0.001, failedAuthCost: 1, maxTrackedClients: 100),
            now: { clock.now() }
        )
        for index in 0..<10_000 {
            _ = limiter.take(client: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)")
            #expect(limiter.trackedClients <= 100)
        }
        // The most recent client is still tracked (its bucket is not reset by eviction).
        for _ in 0..<4 { _ = limiter.take(client: "192.0.2.1") }
        #expect(limiter.take(client: "192.0.2.1") == nil)
        #expect(limiter.take(client: "192.0.2.1") != nil)
    }

    @Test func lockTableIsExclusive() {
        let locks = LockTable()
        #expect(locks.tryAcquire("docker"))
        #expect(!locks.tryAcquire("docker"))
        #expect(locks.tryAcquire("nginx"))
        locks.release("docker")
        #expect(locks.tryAcquire("docker"))
    }

    @Test func actionIDValidation() {
        for valid in ["a", "restart_api_core", "x" + String(repeating: "9", count: 63)] {
            #expect(ActionID.isValid(valid), "\(valid)")
        }
        for invalid in [
            "", "A", "1abc", "_a", "a-b", "a;b", "a b", "ré", "a/b", "..", String(repeating: "a", count: 65),
        ] {
            #expect(!ActionID.isValid(invalid), "\(invalid)")
        }
    }
}

@Suite struct ConfigurationTests {
    let token = "0123456789abcdef"

    @Test func resolvesEnvironmentAndOptions() throws {
        let config = try AgentConfiguration.resolve(
            options: .init(port: 9999, unixSocketPath: "/run/z/agent.sock", maxConnections: 50),
            environment: [
                "OPS_AGENT_TOKEN": token, "OPS_AGENT_LISTEN": "[::1]:8000", "ZUMIK_BUNDLES_DIR": "/b",
                "ZUMIK_STATE_DIR": "/s", "ZUMIK_DOCKER_HOST": "unix:///run/d.sock",
                "DOCKER_HOST": "tcp://10.0.0.1:2375", "ZUMIK_MAX_CONNECTIONS": "70", "ZUMIK_HEADER_TIMEOUT": "2.5",
                "OPS_AGENT_UNIX_SOCKET": "/ignored.sock",
            ]
        )
        #expect(config.host == "::1")
        #expect(config.port == 9999)
        #expect(config.bundlesDirectory == "/b")
        #expect(config.auditLogPath == "/s/audit.jsonl")
        #expect(config.dockerHost == "unix:///run/d.sock")
        #expect(config.unixSocketPath == "/run/z/agent.sock")
        #expect(config.connectionLimits.maxConnections == 50, "the option wins over the environment")
        #expect(config.connectionLimits.headerTimeoutSeconds == 2.5)
        #expect(config.connectionLimits.maxConnectionsPerClient == 64)
        let noDocker = try AgentConfiguration.resolve(
            options: .init(),
            environment: ["OPS_AGENT_TOKEN": token, "DOCKER_HOST": "unix:///x"]
        )
        #expect(noDocker.dockerHost == nil)
        #expect(noDocker.host == "127.0.0.1" && noDocker.port == 8787)
    }

    @Test(arguments: [
        (["OPS_AGENT_TOKEN": "short"], "too short"),
        ([:], "missing"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "OPS_AGENT_LISTEN": "localhost:80"], "bad listen address"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "OPS_AGENT_LISTEN": "127.0.0.1:70000"], "bad listen address"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "OPS_AGENT_LISTEN": "127.0.0.1"], "bad listen address"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_TRUSTED_PROXIES": "127.0.0.1/32"], "no longer supported"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "OPS_AGENT_UNIX_SOCKET": "agent.sock"], "absolute path"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_MAX_CONNECTIONS": "1"], "out of range"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_IDLE_TIMEOUT": "soon"], "not a number"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_LOG_FORMAT": "xml"], "unknown format"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_DOCKER_HOST": "tcp://10.0.0.1:2375"], "docker-host"),
        (["OPS_AGENT_TOKEN": "0123456789abcdef", "ZUMIK_RATE_LIMIT_BURST": "0"], "out of range"),
        (["OPS_AGENT_TOKEN": "0123456789abc def"], "printable ASCII"),
    ])
    func refusesBadEnvironment(environment: [String: String], expected: String) {
        #expect {
            _ = try AgentConfiguration.resolve(options: .init(), environment: environment)
        } throws: { error in
            "\(error)".contains(expected) && !"\(error)".contains("\n")
        }
    }

    @Test func docsOptionTableNamesEverySetting() throws {
        let docs = try String(
            contentsOf: Specs.packageRoot.appendingPathComponent("docs/agent.md"),
            encoding: .utf8
        )
        let rows = docs.split(separator: "\n").filter { $0.hasPrefix("| `--") }
        for (flag, key) in AgentConfiguration.settingNames {
            let keyFamily = key.hasPrefix("ZUMIK_RATE_LIMIT_") ? "ZUMIK_RATE_LIMIT_*" : key
            #expect(
                rows.contains { row in
                    (row.contains("`\(flag)`") || row.contains("`\(flag) ")) && row.contains("`\(keyFamily)")
                },
                "docs/agent.md's option table has no row for \(flag) / \(key)"
            )
        }
    }

    @Test func tokenFileIsTrimmedAndMustNotBeWorldReadable() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let file = directory.file("token")
        try "\(token)xyz\n".write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, 0o600)
        let config = try AgentConfiguration.resolve(options: .init(), environment: ["OPS_AGENT_TOKEN_FILE": file])
        #expect(config.token == "\(token)xyz")
        chmod(file, 0o644)
        #expect {
            _ = try AgentConfiguration.resolve(options: .init(), environment: ["OPS_AGENT_TOKEN_FILE": file])
        } throws: { "\($0)".contains("readable by others") }
    }

    @Test func unsafeDirectoriesAreRefused() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        try StartupCheck.checkTrustedDirectory(directory.path, key: "ZUMIK_BUNDLES_DIR")
        let writable = directory.file("writable")
        mkdir(writable, 0o700)
        chmod(writable, 0o770)
        #expect { try StartupCheck.checkTrustedDirectory(writable, key: "ZUMIK_BUNDLES_DIR") } throws: {
            "\($0)".contains("group- or other-writable")
        }
        let link = directory.file("link")
        symlink(directory.path, link)
        #expect { try StartupCheck.checkTrustedDirectory(link, key: "ZUMIK_BUNDLES_DIR") } throws: {
            "\($0)".contains("symbolic link")
        }
        #expect {
            try StartupCheck.checkTrustedDirectory(directory.file("missing"), key: "ZUMIK_TRUSTED_KEYS_DIR")
        } throws: {
            "\($0)".contains("ZUMIK_TRUSTED_KEYS_DIR")
        }
    }
}
