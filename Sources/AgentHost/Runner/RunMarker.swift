import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Finds a run's processes by the marker every child of the run carries in its environment,
/// `ZUMIK_RUN_ID=<audit id>`: inherited by everything the command starts, `setsid()` escapers and
/// double-forked daemons included, and readable in `/proc/<pid>/environ` by the agent's user.
///
/// Used when a run times out (after its process group is killed) and at start-up, for the runs a
/// killed agent left without a completion record. A process that replaces its whole environment
/// (`execve` with a fresh one) drops the marker: on a systemd host the unit's cgroup
/// (`KillMode=control-group`) still ends it with the agent.
public enum RunMarker {
    public static let variable = "ZUMIK_RUN_ID"

    /// The environment entry for `runID`.
    public static func entry(_ runID: String) -> String { "\(variable)=\(runID)" }

    /// Processes (other than this one) whose environment marks them as part of one of `runIDs`.
    public static func processes(markedWith runIDs: Set<String>) -> [Int32] {
        guard !runIDs.isEmpty, let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
            return []
        }
        let own = getpid()
        let prefix = Array("\(variable)=".utf8)
        var found: [pid_t] = []
        for name in names {
            guard let pid = pid_t(name), pid != own, let environ = readEnviron(pid) else { continue }
            for entry in environ.split(separator: 0) where entry.starts(with: prefix) {
                if runIDs.contains(String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)) {
                    found.append(pid)
                    break
                }
            }
        }
        return found
    }

    /// SIGKILLs every process marked with one of `runIDs` (again, until none is left or a second
    /// passes, so a process forking while it is killed is caught too) and reaps those that were
    /// reparented to this process. Returns how many were killed.
    @discardableResult
    public static func killAll(markedWith runIDs: Set<String>) -> Int {
        var killed = Set<pid_t>()
        for _ in 0..<100 {
            let alive = processes(markedWith: runIDs).filter(isAlive)
            if alive.isEmpty { break }
            for pid in alive {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
            usleep(10_000)
        }
        for pid in killed {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
        return killed.count
    }

    private static func readEnviron(_ pid: pid_t) -> [UInt8]? {
        let fd = open("/proc/\(pid)/environ", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256 * 1024)
        var total = 0
        while total < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            total += count
        }
        return Array(bytes[0..<total])
    }

    /// Whether `pid` exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingSpaces.hasPrefix("Z")
    }
}
