import ActionKit
import AgentHost
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

let testToken = "test-token-0123456789abcdef"

/// A test action: `/bin/sh -c SCRIPT`, in a bundle of its own.
func shellAction(
    _ id: String,
    _ script: String,
    timeoutS: Int = 10,
    killGraceS: Int = 1,
    lock: String? = nil,
    limits: ActionLimits = ActionLimits(),
    maxOutputBytes: Int = 4096,
    preflight: String? = nil
) -> RunnableAction {
    RunnableAction(
        spec: ActionSpec(
            id: id,
            title: id,
            description: "test action \(id)",
            kind: .remediation,
            argv: ["/bin/sh", "-c", script],
            preflightArgv: preflight.map { ["/bin/sh", "-c", $0] },
            timeoutS: timeoutS,
            killGraceS: killGraceS,
            lock: lock ?? id,
            limits: limits,
            targets: ["test"],
            rank: 1,
            maxOutputBytes: maxOutputBytes
        ),
        bundle: AgentAPI.BundleRef(
            id: "ai.zumik.test",
            version: "1.0.0",
            serial: 1,
            sha256: String(repeating: "ab", count: 32),
            keyID: "test"
        ),
        interpret: { exitCode, signal, stdout, _ in
            .object([
                "exit": exitCode.map { .number(Double($0)) } ?? .null,
                "signal": signal.map { .number(Double($0)) } ?? .null,
                "lines": .number(Double(stdout.filter { $0 == 10 }.count)),
            ])
        }
    )
}

/// An in-process agent on a real loopback socket (port 0), torn down after `body`.
struct InProcessAgent: Sendable {
    let port: Int
    let directory: TempDir
    let auditLog: AuditLog
    var auditPath: String { directory.file("audit.jsonl") }

    static func with(
        actions: [RunnableAction],
        configure: @Sendable (inout AgentConfiguration) -> Void = { _ in },
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        _ body: @Sendable (InProcessAgent) async throws -> Void
    ) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        var configuration = AgentConfiguration(
            host: "127.0.0.1",
            port: 0,
            token: testToken,
            bundlesDirectory: directory.path,
            trustedKeysDirectory: directory.path,
            stateDirectory: directory.path,
            rateLimit: .init(burst: 100_000, refillPerSecond: 1000, failedAuthCost: 0, maxTrackedClients: 100)
        )
        configuration.auditLogPath = directory.file("audit.jsonl")
        configure(&configuration)
        let auditLog = try AuditLog(path: configuration.auditLogPath)
        var logger = Logger(label: "agent-test")
        logger.logLevel = .warning
        let server = AgentServer(
            configuration: configuration,
            provider: StaticActionProvider(actions: actions),
            auditLog: auditLog,
            logger: logger,
            now: now
        )
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = server.makeApplication { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
        }
        let serviceGroup = ServiceGroup(services: [application], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw RawHTTPError(message: "server did not start") }
            do {
                try await body(InProcessAgent(port: port, directory: directory, auditLog: auditLog))
            } catch {
                await serviceGroup.triggerGracefulShutdown()
                throw error
            }
            await serviceGroup.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// Every record so far, refusal summaries included (written now).
    func auditRecords() throws -> [[String: Any]] {
        auditLog.flushRefusals()
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map {
            guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
                throw RawHTTPError(message: "audit line is not an object: \($0)")
            }
            return object
        }
    }

    /// The refusal summaries' counts, summed by reason.
    func refusalCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in try auditRecords() where record["outcome"] as? String == "refused" {
            for (reason, count) in record["refusals"] as? [String: Int] ?? [:] { counts[reason, default: 0] += count }
        }
        return counts
    }

    func lines(of name: String) -> [Substring] {
        ((try? String(contentsOfFile: directory.file(name), encoding: .utf8)) ?? "").split(separator: "\n")
    }
}
