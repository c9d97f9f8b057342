import CZumikSys
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// What one run of a command produced.
public struct CommandResult: Sendable, Hashable {
    /// Exit code when the process exited normally.
    public var exitCode: Int?
    /// The signal that ended the process, if a signal did.
    public var signal: Int?
    /// The deadline passed and the group was sent SIGTERM (then SIGKILL after the grace).
    public var timedOut: Bool
    public var durationMs: Int
    /// The last `maxOutputBytes` bytes of each stream.
    public var stdoutTail: [UInt8]
    public var stderrTail: [UInt8]
    /// Bytes each stream produced in all, including what was discarded.
    public var stdoutBytes: Int
    public var stderrBytes: Int
    /// Set when the command could not be started at all.
    public var spawnError: String?

    public var truncated: Bool { stdoutBytes > stdoutTail.count || stderrBytes > stderrTail.count }

    /// `succeeded`, `failed`, `timed_out`, `killed`, `spawn_failed`.
    public var outcome: String {
        if spawnError != nil { return "spawn_failed" }
        if timedOut { return "timed_out" }
        if signal != nil { return "killed" }
        return exitCode == 0 ? "succeeded" : "failed"
    }
}

/// The limits one command runs under.
public struct CommandLimits: Sendable, Hashable {
    public var timeout: Duration
    public var killGrace: Duration
    public var maxOutputBytes: Int

    public init(timeout: Duration, killGrace: Duration, maxOutputBytes: Int) {
        self.timeout = timeout
        self.killGrace = killGrace
        self.maxOutputBytes = maxOutputBytes
    }
}

/// Runs a fixed argv the locked-down way: no shell, a cleared environment, cwd `/`, stdin
/// `/dev/null`, its own process group, output captured and capped (the tail is kept, the rest
/// read and discarded so the child never blocks), SIGTERM to the group at the deadline and
/// SIGKILL after the grace, then the group is killed and the leader reaped.
///
/// Each run blocks a dedicated thread, never the caller's executor or a NIO event loop.
public struct ActionRunner: Sendable {
    /// The only variable in the child's environment besides an explicit `DOCKER_HOST`.
    public static let fixedPath = "/usr/sbin:/usr/bin:/sbin:/bin"

    /// The environment every child gets: `PATH`, plus `DOCKER_HOST` when configured.
    public let environment: [String]

    public init(dockerHost: String? = nil) {
        var environment = ["PATH=\(Self.fixedPath)"]
        if let dockerHost { environment.append("DOCKER_HOST=\(dockerHost)") }
        self.environment = environment
    }

    /// Runs `argv` to completion (or to its deadline) on a thread of its own.
    ///
    /// - Parameter runID: marks every process of the run (``RunMarker``), so that after a timeout
    ///   the ones that left the process group (`setsid`) are found and killed too.
    public func run(argv: [String], limits: CommandLimits, runID: String? = nil) async -> CommandResult {
        await BlockingThread.run(name: "zumik-action-runner") { [self] in
            runHere(argv: argv, limits: limits, runID: runID)
        }
    }

    /// ``run(argv:limits:runID:)`` on the calling thread, which it blocks until the command is done.
    public func runHere(argv: [String], limits: CommandLimits, runID: String? = nil) -> CommandResult {
        var environment = self.environment
        if let runID { environment.append(RunMarker.entry(runID)) }
        let start = ContinuousClock.now
        let result = Self.runBlocking(argv: argv, environment: environment, limits: limits)
        // At the deadline the group was killed; escapers from it go now.
        if let runID, result.timedOut || start.duration(to: .now) >= limits.timeout {
            RunMarker.killAll(markedWith: [runID])
        }
        return result
    }

    /// Orphans of an action (children of a process that died) come back to the agent, so that
    /// the group can be reaped completely and nothing of it outlives the run.
    private static let subreaper: Bool = zumik_become_subreaper() == 0

    static func runBlocking(argv: [String], environment: [String], limits: CommandLimits) -> CommandResult {
        _ = subreaper
        let start = ContinuousClock.now
        func failed(_ message: String) -> CommandResult {
            CommandResult(
                exitCode: nil,
                signal: nil,
                timedOut: false,
                durationMs: milliseconds(since: start),
                stdoutTail: [],
                stderrTail: [],
                stdoutBytes: 0,
                stderrBytes: 0,
                spawnError: message
            )
        }
        guard let executable = argv.first, executable.hasPrefix("/") else {
            return failed("argv[0] must be an absolute path")
        }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard zumik_pipe_cloexec(&outPipe) == 0 else { return failed("pipe: \(errnoString())") }
        guard zumik_pipe_cloexec(&errPipe) == 0 else {
            close(outPipe[0])
            close(outPipe[1])
            return failed("pipe: \(errnoString())")
        }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgv in
            withCStrings(environment) { cEnv in
                zumik_spawn(executable, cArgv, cEnv, outPipe[1], errPipe[1], &pid)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            return failed("spawn \(executable): \(String(cString: strerror(rc)))")
        }
        _ = fcntl(outPipe[0], F_SETFL, fcntl(outPipe[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(errPipe[0], F_SETFL, fcntl(errPipe[0], F_GETFL) | O_NONBLOCK)

        var stdout = TailBuffer(capacity: limits.maxOutputBytes)
        var stderr = TailBuffer(capacity: limits.maxOutputBytes)
        let pidfd = zumik_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }

        let deadline = start + limits.timeout
        var killAt: ContinuousClock.Instant?
        var termSent = false
        var killSent = false
        var timedOut = false
        var leaderExited = false
        var outOpen = true
        var errOpen = true
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)

        while true {
            if !leaderExited, zumik_has_exited(pid) == 1 { leaderExited = true }
            if leaderExited && !outOpen && !errOpen { break }
            let now = ContinuousClock.now
            if now >= deadline && !termSent {
                if leaderExited {
                    // The command is done; whatever of its group still holds the pipes goes.
                    kill(-pid, SIGKILL)
                    killSent = true
                    termSent = true
                } else {
                    timedOut = true
                    termSent = true
                    kill(-pid, SIGTERM)
                    killAt = now + limits.killGrace
                }
            }
            if let killAt, now >= killAt, !killSent {
                kill(-pid, SIGKILL)
                killSent = true
            }
            if killSent && leaderExited && (outOpen || errOpen) {
                // SIGKILL was sent to everyone in the group; drain what is left without waiting on
                // a descriptor some escaped process may still hold.
                drain(outPipe[0], into: &stdout, scratch: &scratch, open: &outOpen)
                drain(errPipe[0], into: &stderr, scratch: &scratch, open: &errOpen)
                break
            }

            var next = killAt ?? deadline
            if termSent && killAt == nil { next = now + .milliseconds(50) }
            var waitMs = max(0, milliseconds(from: now, to: next))
            if pidfd < 0 && !leaderExited { waitMs = min(waitMs, 20) }
            if leaderExited && !outOpen && !errOpen { waitMs = 0 }
            waitMs = min(waitMs, 1000)

            var fds: [pollfd] = []
            if outOpen { fds.append(pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0)) }
            if errOpen { fds.append(pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)) }
            if pidfd >= 0 && !leaderExited { fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            if fds.isEmpty {
                // Both pipes closed, leader still running: wait for it (bounded by the deadline).
                if pidfd >= 0 {
                    var one = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&one, 1, Int32(waitMs))
                } else {
                    usleep(UInt32(min(waitMs, 20)) * 1000)
                }
                continue
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(waitMs))
            if ready < 0 && errno != EINTR { usleep(1000) }
            if outOpen { drain(outPipe[0], into: &stdout, scratch: &scratch, open: &outOpen) }
            if errOpen { drain(errPipe[0], into: &stderr, scratch: &scratch, open: &errOpen) }
        }
        // No survivors: anything left in the group goes before the leader is reaped (the
        // leader's zombie keeps the group id from being reused until then).
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reapGroup(pid)
        close(outPipe[0])
        close(errPipe[0])

        var exitCode: Int?
        var signal: Int?
        if status & 0x7f == 0 {
            exitCode = Int((status >> 8) & 0xff)
        } else {
            signal = Int(status & 0x7f)
        }
        return CommandResult(
            exitCode: exitCode,
            signal: signal,
            timedOut: timedOut,
            durationMs: milliseconds(since: start),
            stdoutTail: stdout.bytes,
            stderrTail: stderr.bytes,
            stdoutBytes: stdout.total,
            stderrBytes: stderr.total,
            spawnError: nil
        )
    }

    /// Reaps the group's members that were reparented to the agent (it is a subreaper), until
    /// none is left or 5 s pass (a process stuck in the kernel cannot be helped).
    private static func reapGroup(_ pgid: pid_t) {
        var status: Int32 = 0
        for _ in 0..<500 {
            let reaped = waitpid(-pgid, &status, WNOHANG)
            if reaped > 0 { continue }
            if reaped < 0 && errno == EINTR { continue }
            if reaped < 0 { return }  // ECHILD: none of the group is our child any more
            kill(-pgid, SIGKILL)
            usleep(10_000)
        }
    }

    private static func drain(_ fd: Int32, into buffer: inout TailBuffer, scratch: inout [UInt8], open: inout Bool) {
        while open {
            let count = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(scratch[0..<count])
            } else if count == 0 {
                open = false
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { open = false }
                return
            }
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        milliseconds(from: start, to: .now)
    }

    private static func milliseconds(from: ContinuousClock.Instant, to: ContinuousClock.Instant) -> Int {
        let duration = from.duration(to: to)
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    private static func errnoString() -> String { String(cString: strerror(errno)) }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R)
        -> R
    {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Keeps the last `capacity` bytes of a stream and counts all of it.
struct TailBuffer {
    let capacity: Int
    private(set) var total = 0
    private var storage: [UInt8] = []

    init(capacity: Int) { self.capacity = max(0, capacity) }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        total += chunk.count
        guard capacity > 0 else { return }
        storage.append(contentsOf: chunk.suffix(capacity))
        if storage.count > 2 * capacity {
            storage.removeFirst(storage.count - capacity)
        }
    }

    var bytes: [UInt8] { Array(storage.suffix(capacity)) }
}
