import ActionKit
import ActionPluginKit
import CActionABI
import CZumikSys

#if canImport(Glibc)
import Glibc
#endif

/// The child side of a plugin reader call: the agent binary re-executed with ``argument``.
///
/// Descriptor 3 is the sealed memfd the loader verified, descriptor 4 the input (``ReaderInput``),
/// stdout the answer: `0` (nothing to say) or `1` followed by the plugin's JSON. Before the plugin
/// is mapped the helper limits its own CPU time and address space and disables core dumps; the
/// parent has already cleared its environment, closed every other descriptor and put it in a
/// process group of its own.
public enum ReaderHelper {
    /// `argv[1]` of a reader helper. Never shown in `--help`.
    public static let argument = "--zumik-plugin-reader"

    /// Runs the helper and exits when `arguments` ask for it; returns otherwise.
    public static func runIfRequested(_ arguments: [String]) {
        guard arguments.count == 4, arguments[1] == argument else { return }
        let cpuSeconds = UInt(arguments[2]) ?? 5
        let memoryBytes = UInt(arguments[3]) ?? (1 << 30)
        _exit(run(cpuSeconds: cpuSeconds, memoryBytes: memoryBytes))
    }

    private static func run(cpuSeconds: UInt, memoryBytes: UInt) -> Int32 {
        guard zumik_limit_self(cpuSeconds, memoryBytes) == 0 else { return 70 }
        guard let input = ReaderInput.read(from: 4) else { return 65 }
        guard let handle = dlopen("/proc/self/fd/3", RTLD_NOW | RTLD_LOCAL),
            let symbol = dlsym(handle, BundleABI.entrySymbol)
        else { return 66 }
        typealias Entry = @convention(c) () -> UnsafeRawPointer?
        guard let raw = unsafeBitCast(symbol, to: Entry.self)(),
            raw.loadUnaligned(as: UInt64.self) == BundleABI.magic,
            raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == BundleABI.major,
            raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self) == BundleABI.tableSize
        else { return 67 }
        let table = raw.assumingMemoryBound(to: zumik_action_table.self)
        let answer = input.actionID.withCString { id in
            input.stdout.withUnsafeBufferPointer { out in
                input.stderr.withUnsafeBufferPointer { err in
                    table.pointee.interpret(
                        id,
                        input.exitCode ?? -1,
                        input.signal ?? 0,
                        out.baseAddress,
                        out.count,
                        err.baseAddress,
                        err.count
                    )
                }
            }
        }
        var output: [UInt8] = [UInt8(ascii: "0")]
        if let answer {
            let length = strnlen(answer, ReaderProcess.maxAnswerBytes + 1)
            output = [UInt8(ascii: "1")] + UnsafeRawBufferPointer(start: answer, count: length)
            table.pointee.free_string(answer)
        }
        var offset = 0
        while offset < output.count {
            let written = output.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return 74 }
            offset += written
        }
        return 0
    }
}

/// What a reader is asked: the action and its command's result.
struct ReaderInput {
    var actionID: String
    var exitCode: Int32?
    var signal: Int32?
    var stdout: [UInt8]
    var stderr: [UInt8]

    /// `ZRD1\n<id>\n<exit|->\n<signal|->\n<stdout length>\n<stderr length>\n` then both streams.
    var encoded: [UInt8] {
        let header =
            "ZRD1\n\(actionID)\n\(exitCode.map(String.init) ?? "-")\n\(signal.map(String.init) ?? "-")\n"
            + "\(stdout.count)\n\(stderr.count)\n"
        return Array(header.utf8) + stdout + stderr
    }

    static func read(from fd: Int32) -> ReaderInput? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        var fields: [String] = []
        var index = 0
        while fields.count < 6, let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) {
            fields.append(String(decoding: bytes[index..<newline], as: UTF8.self))
            index = newline + 1
        }
        guard fields.count == 6, fields[0] == "ZRD1", let outCount = Int(fields[4]), let errCount = Int(fields[5]),
            outCount >= 0, errCount >= 0, index + outCount + errCount == bytes.count
        else { return nil }
        return ReaderInput(
            actionID: fields[1],
            exitCode: Int32(fields[2]),
            signal: Int32(fields[3]),
            stdout: Array(bytes[index..<index + outCount]),
            stderr: Array(bytes[(index + outCount)...])
        )
    }
}
