#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One finished command, as the host hands it to a plugin's `interpret`.
public struct CommandOutput: Sendable, Hashable {
    public var actionID: String
    /// The exit code, or -1 when the process was killed by ``signal``.
    public var exitStatus: Int32
    /// The terminating signal, or 0.
    public var signal: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(actionID: String, exitStatus: Int32, signal: Int32 = 0, stdout: [UInt8], stderr: [UInt8]) {
        self.actionID = actionID
        self.exitStatus = exitStatus
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The command exited with status 0.
    public var succeeded: Bool { signal == 0 && exitStatus == 0 }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// Adapts the C arguments of `zumik_action_interpret_fn`, runs `body`, and returns its result
    /// as a `malloc`ed JSON C string (or NULL when `body` returns nil or the result cannot be encoded).
    public static func interpret(
        _ actionID: UnsafePointer<CChar>,
        _ exitStatus: Int32,
        _ signal: Int32,
        _ stdout: UnsafePointer<UInt8>?,
        _ stdoutLength: Int,
        _ stderr: UnsafePointer<UInt8>?,
        _ stderrLength: Int,
        with body: (CommandOutput) -> (any Encodable)?
    ) -> UnsafeMutablePointer<CChar>? {
        let output = CommandOutput(
            actionID: String(cString: actionID),
            exitStatus: exitStatus,
            signal: signal,
            stdout: stdout.map { Array(UnsafeBufferPointer(start: $0, count: stdoutLength)) } ?? [],
            stderr: stderr.map { Array(UnsafeBufferPointer(start: $0, count: stderrLength)) } ?? []
        )
        guard let result = body(output) else { return nil }
        return PluginJSON.cString(result)
    }
}

/// JSON results crossing the plugin boundary.
public enum PluginJSON {
    /// Encodes `value` (sorted keys) into a `strdup`ed C string the host frees with the table's `free_string`.
    public static func cString(_ value: any Encodable) -> UnsafeMutablePointer<CChar>? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        return strdup(text)
    }
}
