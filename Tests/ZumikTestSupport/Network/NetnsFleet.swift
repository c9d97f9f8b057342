import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Network namespaces for one multi-location test: a hub namespace (the shared services: PostgreSQL, the
/// agent, the Discord stand-in, the target) and one namespace per location, each joined to the hub by a veth
/// pair. Only loopback addresses (127.13.0.0/16) and only namespaces made here: the test process's own
/// network (the host's, or scripts/with-docker.sh's) is never changed.
///
/// Location `i` (1-based) has the subnet 127.13.i.0/29: the hub end of its veth holds .1 (the services) and .2
/// (the target, so that its route can be cut alone), the location end holds .6. Every namespace's `lo` keeps
/// only 127.0.0.1/32 and sets `route_localnet`, so the rest of 127/8 is routed like any subnet. The services
/// in the hub listen on 0.0.0.0 (the hub has no other address) and each location reaches them at its own .1.
///
/// Names are `zf<pid>-<random>-<role>`: ``removeLeftovers()`` deletes namespaces (and kills what runs in them)
/// of test processes that are gone, however they ended.
public final class NetnsFleet: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; `removed` is behind a lock.
    public struct Location: Sendable {
        /// The location's name (`ZUMIK_LOCATION`).
        public var name: String
        public var namespace: String
        /// 1-based: the third byte of the location's addresses.
        public var index: Int

        /// Where the location reaches PostgreSQL, the agent and the Discord stand-in.
        public var serviceAddress: String { "127.13.\(index).1" }
        /// Where the location reaches the target.
        public var targetAddress: String { "127.13.\(index).2" }
        /// The location's own address.
        public var address: String { "127.13.\(index).6" }
        /// A command prefix that runs a program inside the location.
        public var launcher: [String] { [NetnsFleet.ipTool ?? "ip", "netns", "exec", namespace] }
    }

    public static let prefix = "zf"

    /// The `ip` tool (iproute2), if installed.
    public static let ipTool: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Why fleet tests cannot run here (nil: they can).
    public static var unavailableReason: String? {
        if geteuid() != 0 { return "network namespaces need root (CI runs as root)" }
        if ipTool == nil { return "iproute2 (`ip`) is not installed (scripts/setup.sh installs it)" }
        return nil
    }

    public let hub: String
    public let locations: [Location]
    private let removed = NSLock()
    nonisolated(unsafe) private var isRemoved = false

    /// A command prefix that runs a program inside the hub.
    public var hubLauncher: [String] { [Self.ipTool ?? "ip", "netns", "exec", hub] }

    /// Creates the hub and one namespace per name in `locationNames`; on failure removes what it made.
    public init(locationNames: [String] = ["a", "b", "c"]) throws {
        if let reason = Self.unavailableReason { throw NetnsFleetError(message: reason) }
        Self.removeLeftovers()
        let id = "\(Self.prefix)\(getpid())-\(String(UInt32.random(in: 0...0xffff), radix: 16))"
        hub = "\(id)-hub"
        locations = locationNames.enumerated().map { offset, name in
            Location(name: name, namespace: "\(id)-\(name)", index: offset + 1)
        }
        do {
            try build()
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    private func build() throws {
        for namespace in [hub] + locations.map(\.namespace) {
            try Self.ip(["netns", "add", namespace])
            try Self.ip(["netns", "exec", namespace, "/bin/sh", "-ec", Self.loopbackOnlySetup])
        }
        for location in locations {
            let hubEnd = "l\(location.name.prefix(12))"
            try Self.ip([
                "link", "add", hubEnd, "netns", hub, "type", "veth", "peer", "name", "hub", "netns",
                location.namespace,
            ])
            try Self.ip(["-n", hub, "addr", "add", "\(location.serviceAddress)/29", "dev", hubEnd])
            try Self.ip(["-n", hub, "addr", "add", "\(location.targetAddress)/29", "dev", hubEnd])
            try Self.ip(["-n", hub, "link", "set", hubEnd, "up"])
            try Self.ip(["-n", location.namespace, "addr", "add", "\(location.address)/29", "dev", "hub"])
            try Self.ip(["-n", location.namespace, "link", "set", "hub", "up"])
        }
    }

    /// Run inside each new namespace: `lo` up with 127.0.0.1/32 only, and 127/8 routable on every interface.
    private static var loopbackOnlySetup: String {
        let ip = ipTool ?? "ip"
        return """
            \(ip) link set lo up
            \(ip) addr del 127.0.0.1/8 dev lo
            \(ip) addr add 127.0.0.1/32 dev lo
            for c in all default; do
              echo 1 > /proc/sys/net/ipv4/conf/$c/route_localnet
              echo 0 > /proc/sys/net/ipv4/conf/$c/rp_filter
            done
            """
    }

    /// Cuts `location`'s route to the target (a blackhole route in that namespace only); its other routes
    /// (PostgreSQL, the agent, Discord) stay.
    public func cutTarget(of location: Location) throws {
        try Self.ip(["-n", location.namespace, "route", "add", "blackhole", "\(location.targetAddress)/32"])
    }

    /// Restores what ``cutTarget(of:)`` cut.
    public func restoreTarget(of location: Location) throws {
        try Self.ip(["-n", location.namespace, "route", "del", "blackhole", "\(location.targetAddress)/32"])
    }

    /// Kills every process in the namespaces and deletes them (once; also from deinit).
    public func remove() {
        let first = removed.withLock {
            defer { isRemoved = true }
            return !isRemoved
        }
        guard first else { return }
        for namespace in locations.map(\.namespace) + [hub] { Self.delete(namespace) }
    }

    /// Deletes the namespaces of earlier test processes that are gone (a crash, a kill -9).
    public static func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        for name in names where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its test process still runs
            delete(name)
        }
    }

    private static func delete(_ namespace: String) {
        let pids = (try? ip(["netns", "pids", namespace])) ?? ""
        for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        _ = try? ip(["netns", "del", namespace])
        // A namespace bound in another mount namespace (scripts/with-docker.sh) leaves its empty file behind.
        unlink("/run/netns/\(namespace)")
    }

    /// Runs `ip ARGS`; its output, or an error naming the command and what it said.
    @discardableResult
    static func ip(_ arguments: [String]) throws -> String {
        guard let tool = ipTool else { throw NetnsFleetError(message: "iproute2 (`ip`) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NetnsFleetError(
                message: "ip \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(output)"
            )
        }
        return output
    }
}

public struct NetnsFleetError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
