import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The built `zumik-ops-agent`, beside the test binary.
public enum AgentBinary {
    public static var directory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }

    public static var path: String { directory + "/zumik-ops-agent" }

    public static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// A port that was free a moment ago (the kernel's pick).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw RawHTTPError(message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A running (or finished) agent process.
public final class AgentProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipe are only touched by the owning test, one call at a time.
    public let process = Process()
    public let stderrPath: String
    public let port: Int
    /// The network namespace it runs in (nil: the test process's).
    public let namespace: String?

    /// `launcher`: a command prefix that execs the agent inside `namespace` (`ip netns exec NS`).
    public init(
        arguments: [String],
        environment: [String: String],
        port: Int,
        stderrPath: String,
        launcher: [String] = [],
        namespace: String? = nil
    ) throws {
        self.port = port
        self.stderrPath = stderrPath
        self.namespace = namespace
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let argv = launcher + [AgentBinary.path] + arguments
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = environment
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `/healthz` answers (or the process exits, or 60 s pass).
    public func waitUntilHealthy() async throws {
        for _ in 0..<600 {
            if !process.isRunning { throw RawHTTPError(message: "agent exited: \(stderr)") }
            let response = try? await RawHTTP.send(port: port, method: "GET", path: "/healthz", namespace: namespace)
            if response?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RawHTTPError(message: "agent did not become healthy: \(stderr)")
    }

    /// Waits for exit (at most 60 s) and returns the status.
    public func waitForExit() async throws -> Int32 {
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning {
            process.terminate()
            throw RawHTTPError(message: "agent did not exit")
        }
        return process.terminationStatus
    }

    public func stop() async {
        if process.isRunning { kill(pid, SIGTERM) }
        _ = try? await waitForExit()
    }
}
