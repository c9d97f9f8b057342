import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 cluster (Debian's `postgresql-15`): `initdb` and `pg_ctl` from
/// `/usr/lib/postgresql/15/bin`, run as the `postgres` OS user when the tests run as root (initdb refuses
/// root). It listens on 127.0.0.1 at a free port (password auth, SCRAM) and on a Unix socket in its own
/// directory (trust, for administration). One cluster serves a whole test process (``shared()``); each test
/// takes a fresh database (``makeDatabase()``). A watchdog shell stops the cluster and removes its directory
/// when the test process is gone, however it ends.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init.
    public static let binDirectory = "/usr/lib/postgresql/15/bin"
    public static let user = "zumik"

    /// Why the tests that need PostgreSQL cannot run here (nil: they can).
    public static var unavailableReason: String? {
        for tool in ["initdb", "pg_ctl", "postgres", "psql"]
        where !FileManager.default.isExecutableFile(
            atPath: tool == "psql" ? "\(Self.binDirectory)/psql" : "\(binDirectory)/\(tool)"
        ) {
            return "PostgreSQL 15 is not installed (\(tool) missing; scripts/setup.sh installs postgresql)"
        }
        return nil
    }

    public let directory: String
    public let host: String
    public let port: Int
    public let password: String
    public var socketDirectory: String { directory + "/socket" }
    public var dataDirectory: String { directory + "/data" }
    public var logFile: String { directory + "/postgres.log" }

    nonisolated(unsafe) private static var sharedServer: PostgresServer?
    private static let sharedLock = NSLock()

    /// The test process's cluster, started on first use.
    public static func shared() throws -> PostgresServer {
        try sharedLock.withLock {
            if let sharedServer { return sharedServer }
            let server = try PostgresServer()
            sharedServer = server
            return server
        }
    }

    /// A command prefix the server runs under (`ip netns exec NS`: a cluster inside a network namespace).
    public let launcher: [String]

    /// Creates and starts a cluster listening on `host` (a loopback address; 0.0.0.0 inside a network namespace
    /// of the test's, see ``NetnsFleet``) at a free port, under `launcher`.
    public init(host: String = "127.0.0.1", launcher: [String] = []) throws {
        self.launcher = launcher
        if let reason = Self.unavailableReason { throw PostgresServerError(message: reason) }
        directory = try TempDir("zumik-pg").path
        self.host = host
        port = try LoopbackServer.freePort()
        password = UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: socketDirectory, withIntermediateDirectories: true)
        try Data(password.utf8).write(to: URL(fileURLWithPath: directory + "/pwfile"))
        if geteuid() == 0 {
            for path in [directory, socketDirectory, directory + "/pwfile"] {
                try fm.setAttributes(
                    [.ownerAccountName: "postgres", .groupOwnerAccountName: "postgres"],
                    ofItemAtPath: path
                )
            }
        }
        try run(
            "\(Self.binDirectory)/initdb",
            [
                "-D", dataDirectory, "-U", Self.user, "-E", "UTF8", "--locale=C", "--auth-local=trust",
                "--auth-host=scram-sha-256", "--pwfile=\(directory)/pwfile", "--no-sync",
            ]
        )
        // Clients from any loopback address (initdb allows 127.0.0.1 only): the locations of ``NetnsFleet``.
        let hba = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/pg_hba.conf"))
        hba.seekToEndOfFile()
        hba.write(Data("host all all 127.0.0.0/8 scram-sha-256\n".utf8))
        try hba.close()
        try start()
        watchdog()
    }

    /// Starts the (stopped) cluster and waits until it accepts connections.
    public func start() throws {
        let options = "-c listen_addresses=\(host) -p \(port) -k \(socketDirectory) -c fsync=off -c max_connections=300"
        try run(
            "\(Self.binDirectory)/pg_ctl",
            ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o", options, "start"]
        )
    }

    /// Stops the cluster (`immediate`, the default: like a crash, clients see their connections drop; `fast`:
    /// open transactions are rolled back and clients disconnected, then a clean shutdown). ``start()`` starts
    /// the same data directory again, on the same port.
    public func stop(mode: String = "immediate") throws {
        try run("\(Self.binDirectory)/pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "stop"])
    }

    /// `kill -9` of the postmaster (a crash); returns once it is gone. Its backends exit when they notice;
    /// ``start(retryingFor:)`` starts the data directory again once they have (after crash recovery).
    public func killPostmaster() throws {
        let pidFile = (try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8)) ?? ""
        guard let line = pidFile.split(separator: "\n").first,
            let pid = pid_t(line.trimmingCharacters(in: .whitespaces))
        else { throw PostgresServerError(message: "no postmaster.pid in \(dataDirectory)") }
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(30)
        while Self.isRunning(pid) {
            guard Date() < deadline else { throw PostgresServerError(message: "postmaster \(pid) survived kill -9") }
            usleep(20_000)
        }
    }

    /// Whether `pid` exists and is not a zombie (in a PID namespace whose init is slow to reap it, a killed
    /// postmaster stays a zombie for a while).
    private static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// ``start()``, tried again for up to `seconds` while it fails (a killed postmaster's backends may still hold
    /// the shared memory for a moment).
    public func start(retryingFor seconds: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do {
                return try start()
            } catch {
                if Date() >= deadline { throw error }
                usleep(200_000)
            }
        }
    }

    /// A connection string for `database` over TCP, with the password, reached at `address` (default: `host`).
    public func url(database: String, address: String? = nil) -> String {
        "postgres://\(Self.user):\(password)@\(address ?? host):\(port)/\(database)?sslmode=disable"
    }

    /// A new, empty database; its name.
    public func makeDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try psql("CREATE DATABASE \(name)")
        return name
    }

    /// Runs one SQL command through `psql` on the Unix socket, as the cluster's superuser.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try capture(
            "\(Self.binDirectory)/psql",
            [
                "-h", socketDirectory, "-p", String(port), "-U", Self.user, "-d", database,
                "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
            ],
            asPostgres: false
        )
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        _ = try capture(tool, arguments, asPostgres: true)
    }

    private func capture(_ tool: String, _ arguments: [String], asPostgres: Bool) throws -> String {
        let argv =
            (asPostgres ? launcher : [])
            + (asPostgres && geteuid() == 0
                ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments : [tool] + arguments)
        let (status, text) = try spawnAndWait(argv)
        guard status == 0 else {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw PostgresServerError(
                message: "\(argv.joined(separator: " ")) failed (\(status)): \(text)\n\(log.suffix(2000))"
            )
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `argv` with its output in a temporary file, and waits for it with `waitpid` (Foundation's `Process`
    /// can miss the exit of `runuser pg_ctl start`, whose server outlives it).
    private func spawnAndWait(_ argv: [String]) throws -> (Int32, String) {
        let output = directory + "/command-\(UUID().uuidString).out"
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw PostgresServerError(message: "cannot start \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), text)
    }

    /// A detached shell that waits for this test process to end, then stops the cluster and removes its files.
    private func watchdog() {
        let stop = geteuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : ""
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            \(stop)\(Self.binDirectory)/pg_ctl -D '\(dataDirectory)' -m immediate -w stop >/dev/null 2>&1
            rm -rf '\(directory)'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", script]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
