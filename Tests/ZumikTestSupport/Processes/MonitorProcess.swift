import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `zumik-monitor` binary beside the test binary, run as a child process.
public final class MonitorProcess: @unchecked Sendable {
    // Process is not Sendable; this wrapper is only driven from one test at a time.
    public static let binary: String? = {
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("zumik-monitor").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    public let process = Process()
    public let log: String

    /// `launcher`: a command prefix the binary runs under (e.g. `ip netns exec NS`, which execs it: the pid is
    /// the monitor's).
    public init(
        config: String,
        environment: [String: String],
        log: String,
        logLevel: String = "debug",
        launcher: [String] = []
    ) throws {
        guard let binary = Self.binary else { throw RawHTTPError(message: "zumik-monitor is not built") }
        self.log = log
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let argv = launcher + [binary, "run", "--config", config, "--log-level", logLevel]
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    public var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    public func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
