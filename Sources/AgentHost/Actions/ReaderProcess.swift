import ActionKit
import CZumikSys
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The limits a plugin reader runs under, in its helper process.
public struct ReaderLimits: Sendable, Hashable {
    /// Wall-clock time for the whole call, start-up included.
    public var timeout: Duration
    /// RLIMIT_CPU of the helper.
    public var cpuSeconds: Int
    /// RLIMIT_AS of the helper.
    public var memoryBytes: Int

    public init(timeout: Duration = .seconds(5), cpuSeconds: Int = 5, memoryBytes: Int = 2 << 30) {
        self.timeout = timeout
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
    }
}

/// Where plugin readers run. The agent binary sets ``enable(executable:limits:)`` at start: every
/// call into a bundle after the load-time handshake then happens in a helper process (the same
/// binary in reader mode, see ``ReaderHelper``). Unset (embedding, in-process tests), readers run
/// in the calling process.
public enum ReaderIsolation {
    public struct Helper: Sendable, Hashable {
        public var executable: String
        public var limits: ReaderLimits
    }

    private static let helper = Mutex<Helper?>(nil)

    public static func enable(executable: String = "/proc/self/exe", limits: ReaderLimits = ReaderLimits()) {
        helper.withLock { $0 = Helper(executable: executable, limits: limits) }
    }

    public static var current: Helper? { helper.withLock { $0 } }
}

/// The parent side of a plugin reader call: spawns the helper, gives it the verified image and the
/// input, and waits for its answer within the limits. A helper that crashes, exits, hangs or
/// answers too much costs only this answer.
enum ReaderProcess {
    static let maxAnswerBytes = 1 << 20

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func interpret(
        helper: ReaderIsolation.Helper,
        imageFD: Int32,
        input: ReaderInput
    ) -> Result<JSONValue?, Failure> {
        let start = ContinuousClock.now
        let deadline = start + helper.limits.timeout
        let payload = input.encoded
        let inputFD = payload.withUnsafeBytes { zumik_memfd_with("zumik-reader-input", $0.baseAddress, $0.count) }
        guard inputFD >= 0 else { return .failure(Failure(description: "input memfd: \(errnoText())")) }
        defer { close(inputFD) }
        var pipe: [Int32] = [-1, -1]
        guard zumik_pipe_cloexec(&pipe) == 0 else { return .failure(Failure(description: "pipe: \(errnoText())")) }
        defer { close(pipe[0]) }
        let argv = [
            "zumik-ops-agent", ReaderHelper.argument, "\(helper.limits.cpuSeconds)", "\(helper.limits.memoryBytes)",
        ]
        var pid: pid_t = 0
        let rc = ActionRunner.withCStrings(argv) { cArgv in
            ActionRunner.withCStrings([]) { cEnv in
                zumik_spawn_helper(helper.executable, cArgv, cEnv, imageFD, inputFD, pipe[1], &pid)
            }
        }
        close(pipe[1])
        guard rc == 0 else {
            return .failure(Failure(description: "cannot start the helper: \(String(cString: strerror(rc)))"))
        }
        _ = fcntl(pipe[0], F_SETFL, fcntl(pipe[0], F_GETFL) | O_NONBLOCK)

        let pidfd = zumik_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var output: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        var open = true
        var timedOut = false
        var status: Int32 = 0
        var exited = false
        func drain() {
            while open && output.count <= maxAnswerBytes + 1 {
                let count = scratch.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
                if count > 0 {
                    output.append(contentsOf: scratch[0..<count])
                } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    open = false
                } else {
                    return
                }
            }
        }
        while true {
            drain()
            if output.count > maxAnswerBytes + 1 { break }
            exited = waitpid(pid, &status, WNOHANG) == pid
            if exited {
                drain()  // what it wrote before it exited; nothing it left behind is waited for
                break
            }
            let now = ContinuousClock.now
            if now >= deadline {
                timedOut = true
                break
            }
            let left = now.duration(to: deadline).components
            let leftMs = Int32(clamping: left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000 + 1)
            var fds: [pollfd] = []
            if open { fds.append(pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)) }
            if pidfd >= 0 { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            // Without a pidfd, look at the helper again every 5 ms.
            _ = poll(&fds, nfds_t(fds.count), pidfd >= 0 ? leftMs : min(leftMs, 5))
        }
        let tooLarge = output.count > maxAnswerBytes + 1
        // Nothing of the helper outlives the call.
        kill(-pid, SIGKILL)
        if !exited { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }

        if timedOut { return .failure(Failure(description: "no answer within \(helper.limits.timeout)")) }
        if tooLarge { return .failure(Failure(description: "answer larger than \(maxAnswerBytes) bytes")) }
        if status & 0x7f != 0 {
            let signal = status & 0x7f
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return .failure(Failure(description: "killed by signal \(signal) (\(name))"))
        }
        let code = (status >> 8) & 0xff
        guard code == 0 else { return .failure(Failure(description: "exited with status \(code) before answering")) }
        guard let kind = output.first else { return .failure(Failure(description: "exited before answering")) }
        if kind == UInt8(ascii: "0"), output.count == 1 { return .success(nil) }
        guard kind == UInt8(ascii: "1") else { return .failure(Failure(description: "answered garbage")) }
        // Same rule as in-process: an answer that is not JSON counts as no answer.
        return .success(try? JSONDecoder().decode(JSONValue.self, from: Data(output.dropFirst())))
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
