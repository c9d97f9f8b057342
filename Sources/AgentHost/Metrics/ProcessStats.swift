import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The process's own resource use, read from `/proc/self` (Linux) at each scrape: the standard
/// `process_*` metrics every Prometheus client library exports.
struct ProcessStats: Sendable, Hashable {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    var openFDs: Int
    var maxFDs: Int
    /// Unix seconds.
    var startTime: Double

    /// Nil where `/proc` cannot be read (not Linux, or a hardened `/proc`).
    static func read() -> ProcessStats? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let boot = bootTime()
        else { return nil }
        // Fields after the command name (which may hold spaces), counted from field 3 (state).
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
            let start = Double(fields[19]), let virtual = Int(fields[20]), let rss = Int(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessStats(
            cpuSeconds: (utime + stime) / ticks,
            residentBytes: rss * page,
            virtualBytes: virtual,
            openFDs: fds,
            maxFDs: Int(clamping: limit.rlim_cur),
            startTime: boot + start / ticks
        )
    }

    /// `btime` of `/proc/stat`: the boot time, Unix seconds.
    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }
            .flatMap { Double($0.dropFirst("btime ".count).trimmingSpaces) }
    }
}
