import ActionKit
import ActionPluginKit
import CActionABI
import CZumikSys

#if canImport(Glibc)
import Glibc
#endif

/// The child side of plugin reader calls: the agent binary re-executed with ``argument``.
///
/// Descriptor 3 is the sealed memfd the loader verified; descriptor 4 a socket to the agent that
/// carries framed calls (``ReaderFrame``): each request is a ``ReaderInput``, each answer `0`
/// (nothing to say) or `1` followed by the plugin's JSON. Before the plugin is mapped the helper
/// limits its own CPU time and address space and disables core dumps; the parent has already
/// cleared its environment, closed every other descriptor and put it in a process group of its own.
/// It serves calls until the agent closes the socket, and retires itself (saying so in its last
/// answer) once it has used half of its CPU limit.
public enum ReaderHelper {
    /// `argv[1]` of a reader helper. Never shown in `--help`.
    public static let argument = "--zumik-plugin-reader"

    /// Runs the helper and exits when `arguments` ask for it; returns otherwise.
    public static func runIfRequested(_ arguments: [String]) {
        guard arguments.count == 4, arguments[1] == argument else { return }
        let cpuSeconds = UInt(arguments[2]) ?? 5
        let memoryBytes = UInt(arguments[3]) ?? (1 << 30)
        _exit(serve(cpuSeconds: cpuSeconds, memoryBytes: memoryBytes))
    }

    private static let socket: Int32 = 4

    private static func serve(cpuSeconds: UInt, memoryBytes: UInt) -> Int32 {
        guard zumik_limit_self(cpuSeconds, memoryBytes) == 0 else { return 70 }
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
        while true {
            guard let request = ReaderFrame.receive(from: socket, deadline: nil, maxBytes: Int(UInt32.max)) else {
                return 0  // the agent closed the socket
            }
            guard let input = ReaderInput.decode(request.payload) else { return 65 }
            let answer = interpret(table, input)
            let retiring = cpuSecondsUsed() * 2 >= Double(cpuSeconds)
            guard ReaderFrame.send(answer, retiring: retiring, to: socket, deadline: nil) else { return 74 }
            if retiring { return 0 }
        }
    }

    private static func interpret(_ table: UnsafePointer<zumik_action_table>, _ input: ReaderInput) -> [UInt8] {
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
        guard let answer else { return [UInt8(ascii: "0")] }
        defer { table.pointee.free_string(answer) }
        let length = strnlen(answer, ReaderProcess.maxAnswerBytes + 1)
        return [UInt8(ascii: "1")] + UnsafeRawBufferPointer(start: answer, count: length)
    }

    private static func cpuSecondsUsed() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return .infinity }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
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

    static func decode(_ bytes: [UInt8]) -> ReaderInput? {
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
