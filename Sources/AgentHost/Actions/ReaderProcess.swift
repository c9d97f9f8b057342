import ActionKit
import CZumikSys
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// The parent side of plugin reader calls. Each bundle image keeps up to ``maxIdlePerImage`` idle
/// helpers (``ReaderHelper``), each serving calls one at a time, so a run pays for a helper's start
/// only once in a while; calls beyond that many at once start more helpers, which end after their
/// call. A helper that
/// crashes, exits, hangs, answers too much or garbage is killed and costs only that answer; the
/// next call starts a fresh one.
enum ReaderProcess {
    static let maxAnswerBytes = 1 << 20
    /// Idle helpers kept per bundle image: enough that concurrent runs of one bundle (up to this many
    /// readers at once) reuse warm helpers instead of each starting one (~10–20 ms of a Swift start).
    static let maxIdlePerImage = 4

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A running helper for one image; owned by one call at a time.
    struct Worker: Sendable {
        var pid: pid_t
        var socket: Int32
        var pidfd: Int32
    }

    private static let idle = Mutex<[Int32: [Worker]]>([:])

    static func interpret(
        helper: ReaderIsolation.Helper,
        imageFD: Int32,
        input: ReaderInput
    ) -> Result<JSONValue?, Failure> {
        let deadline = ContinuousClock.now + helper.limits.timeout
        let worker: Worker
        switch idleWorker(imageFD) ?? spawn(helper: helper, imageFD: imageFD) {
        case .success(let started): worker = started
        case .failure(let failure): return .failure(failure)
        }
        let answer: Result<ReaderFrame, ReaderFrame.Failure> =
            ReaderFrame.send(input.encoded, retiring: false, to: worker.socket, deadline: deadline)
            ? ReaderFrame.receiving(from: worker.socket, deadline: deadline, maxBytes: maxAnswerBytes + 1)
            : .failure(.closed)
        switch answer {
        case .success(let frame):
            if frame.retiring { _ = end(worker, waitingUntil: nil) } else { release(worker, imageFD: imageFD) }
            guard frame.payload.first == UInt8(ascii: "1") else {
                return frame.payload == [UInt8(ascii: "0")]
                    ? .success(nil) : .failure(Failure(description: "answered garbage"))
            }
            // Same rule as in-process: an answer that is not JSON counts as no answer.
            return .success(try? JSONDecoder().decode(JSONValue.self, from: Data(frame.payload.dropFirst())))
        case .failure(.timedOut):
            _ = end(worker, waitingUntil: nil)
            return .failure(Failure(description: "no answer within \(helper.limits.timeout)"))
        case .failure(.tooLarge):
            _ = end(worker, waitingUntil: nil)
            return .failure(Failure(description: "answer larger than \(maxAnswerBytes) bytes"))
        case .failure(.closed):
            // It hung up: it crashed or exited. How, if it finishes dying before the deadline.
            guard let status = end(worker, waitingUntil: deadline) else {
                return .failure(Failure(description: "no answer within \(helper.limits.timeout)"))
            }
            if status & 0x7f != 0 {
                let signal = status & 0x7f
                let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
                return .failure(Failure(description: "killed by signal \(signal) (\(name))"))
            }
            let code = (status >> 8) & 0xff
            return .failure(
                Failure(
                    description: code == 0 ? "exited before answering" : "exited with status \(code) before answering"
                )
            )
        }
    }

    /// An idle helper for the image that is still alive.
    private static func idleWorker(_ imageFD: Int32) -> Result<Worker, Failure>? {
        while let worker = idle.withLock({ $0[imageFD]?.popLast() }) {
            var status: Int32 = 0
            if waitpid(worker.pid, &status, WNOHANG) == 0 { return .success(worker) }
            _ = end(worker, waitingUntil: nil)
        }
        return nil
    }

    private static func release(_ worker: Worker, imageFD: Int32) {
        let kept = idle.withLock { idle in
            guard idle[imageFD, default: []].count < maxIdlePerImage else { return false }
            idle[imageFD, default: []].append(worker)
            return true
        }
        if !kept { _ = end(worker, waitingUntil: nil) }
    }

    private static func spawn(helper: ReaderIsolation.Helper, imageFD: Int32) -> Result<Worker, Failure> {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            return .failure(Failure(description: "socketpair: \(errnoText())"))
        }
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        let argv = [
            "zumik-ops-agent", ReaderHelper.argument, "\(helper.limits.cpuSeconds)", "\(helper.limits.memoryBytes)",
        ]
        var pid: pid_t = 0
        let rc = ActionRunner.withCStrings(argv) { cArgv in
            ActionRunner.withCStrings([]) { cEnv in
                zumik_spawn_helper(helper.executable, cArgv, cEnv, imageFD, pair[1], devNull, &pid)
            }
        }
        close(pair[1])
        if devNull >= 0 { close(devNull) }
        guard rc == 0 else {
            close(pair[0])
            return .failure(Failure(description: "cannot start the helper: \(String(cString: strerror(rc)))"))
        }
        return .success(Worker(pid: pid, socket: pair[0], pidfd: zumik_pidfd_open(pid)))
    }

    /// Ends the helper: waits for it to exit by itself until `deadline` (nil: not at all), then
    /// kills its group and reaps it. The wait status when it exited by itself before the deadline.
    private static func end(_ worker: Worker, waitingUntil deadline: ContinuousClock.Instant?) -> Int32? {
        defer {
            close(worker.socket)
            if worker.pidfd >= 0 { close(worker.pidfd) }
        }
        var status: Int32 = 0
        if let deadline {
            while ContinuousClock.now < deadline {
                if waitpid(worker.pid, &status, WNOHANG) == worker.pid {
                    kill(-worker.pid, SIGKILL)  // anything it left in its group
                    return status
                }
                var one = pollfd(fd: worker.pidfd, events: Int16(POLLIN), revents: 0)
                _ = worker.pidfd >= 0 ? poll(&one, 1, 50) : poll(nil, 0, 5)
            }
        }
        kill(-worker.pid, SIGKILL)
        while waitpid(worker.pid, &status, 0) < 0 && errno == EINTR {}
        return nil
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
