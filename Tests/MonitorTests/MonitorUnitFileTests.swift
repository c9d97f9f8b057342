import Foundation
import Monitor
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `deploy/monitor/zumik-monitor.service` as shipped: the real binary, started as the unit's user (created from
/// the shipped sysusers.d file) with the unit's environment and paths, against a configuration in a
/// read-only `/etc`-like directory, starts and keeps its store in the unit's state directory.
@Suite struct MonitorUnitFileTests {
    @Test(
        .enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"),
        .enabled(if: getuid() == 0, "needs root to run the monitor as the unit's user"),
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv is missing")
    )
    func monitorStartsAsTheUnitsUserWithTheDocumentedPaths() async throws {
        let binary = try #require(MonitorProcess.binary)
        let root = TestBundleFactory.packageRoot
        let unit = try UnitFile(path: "\(root)/deploy/monitor/zumik-monitor.service")
        let userName = try #require(unit.value("User"))
        let stateDirectory = try #require(unit.value("StateDirectory"))
        let work = try ZumikTestSupport.TempDir("zumik-unit")
        defer { work.remove() }
        chmod(work.path, 0o755)

        // The user, from the shipped sysusers.d file, in a throwaway root (the host's users are not touched).
        let (uid, gid) = try SystemUser.create(
            userName,
            from: "\(root)/deploy/monitor/zumik-monitor.sysusers.conf",
            root: work.file("sysroot")
        )
        #expect(unit.value("Group") == userName)

        // /etc/zumik: root-owned, read-only to the unit's user; the configuration names no store_path.
        let etc = work.file("etc/zumik")
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        chmod(work.file("etc"), 0o755)
        chmod(etc, 0o755)
        let controlPort = try LoopbackServer.freePort()
        let closed = try LoopbackServer.closedPort()
        try """
        interval: 1h
        control:
          listen: 127.0.0.1:\(controlPort)
        properties:
          - name: api
            url: http://127.0.0.1:\(closed)/healthz
            timeout: 2s
        """.write(toFile: "\(etc)/monitor.yaml", atomically: false, encoding: .utf8)
        chmod("\(etc)/monitor.yaml", 0o644)

        // /var/lib/<StateDirectory>: what systemd creates, owned by the unit's user, mode StateDirectoryMode.
        let varLib = work.file("var/lib")
        let state = "\(varLib)/\(stateDirectory)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        chmod(work.file("var"), 0o755)
        chmod(varLib, 0o755)
        chown(state, uid, gid)
        chmod(state, 0o700)

        func moved(_ text: String) -> String {
            text.replacingOccurrences(of: "/etc/zumik", with: etc).replacingOccurrences(
                of: "/var/lib/",
                with: varLib + "/"
            )
        }
        var arguments = unit.execStart.map(moved)
        #expect(arguments.removeFirst() == "/usr/local/bin/zumik-monitor")
        var environment = ["PATH": "/usr/bin:/bin"]
        for (key, value) in unit.environment { environment[key] = moved(value) }
        #expect(environment["ZUMIK_STORE_PATH"]?.hasPrefix(state + "/") == true, "\(unit.environment)")

        let log = work.file("monitor.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments =
            ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", binary] + arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: moved(unit.value("WorkingDirectory") ?? state))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        let listening = await waitFor(.seconds(30)) {
            !process.isRunning || logText().contains("control API listening")
        }
        #expect(listening && process.isRunning, "the monitor did not start as \(userName); log:\n\(logText())")
        // Its store is in the state directory, owned by the unit's user; nothing was written beside the config.
        let store = environment["ZUMIK_STORE_PATH"] ?? ""
        var info = stat()
        #expect(stat(store, &info) == 0 && info.st_uid == uid, "no store at \(store); log:\n\(logText())")
        #expect(try FileManager.default.contentsOfDirectory(atPath: etc) == ["monitor.yaml"])
        #expect(logText().contains(store), "the start line names the store")

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "log:\n\(logText())")
    }

    /// A store that cannot be opened says which file.
    @Test func storeErrorsNameThePath() throws {
        let work = try ZumikTestSupport.TempDir()
        defer { work.remove() }
        let path = work.file("missing-dir/zumik-monitor.sqlite")
        #expect {
            _ = try MonitorStore(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("cannot open the store")
        }
    }

    /// `ZUMIK_STORE_PATH` wins over `store_path`; it must be absolute.
    @Test func storePathFromTheEnvironment() throws {
        let work = try ZumikTestSupport.TempDir()
        defer { work.remove() }
        let config = work.file("monitor.yaml")
        try "store_path: here.sqlite\nproperties:\n  - name: web\n    url: https://zumik.ai\n"
            .write(toFile: config, atomically: false, encoding: .utf8)
        #expect(try ConfigLoader.load(path: config, environment: [:]).storePath == work.file("here.sqlite"))
        let loaded = try ConfigLoader.load(path: config, environment: ["ZUMIK_STORE_PATH": "/var/lib/x/s.sqlite"])
        #expect(loaded.storePath == "/var/lib/x/s.sqlite")
        #expect {
            _ = try ConfigLoader.load(path: config, environment: ["ZUMIK_STORE_PATH": "s.sqlite"])
        } throws: { error in
            "\(error)" == "environment: ZUMIK_STORE_PATH: must be an absolute path, got \"s.sqlite\""
        }
    }
}

/// The `[Service]` settings of a systemd unit file that the test uses.
struct UnitFile {
    var lines: [(key: String, value: String)] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\\\n", with: " ")
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            lines.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
    }

    func value(_ key: String) -> String? { lines.last { $0.key == key }?.value }

    var execStart: [String] { (value("ExecStart") ?? "").split(separator: " ").map(String.init) }

    var environment: [(String, String)] {
        lines.filter { $0.key == "Environment" }.compactMap { line in
            guard let equals = line.value.firstIndex(of: "=") else { return nil }
            return (String(line.value[..<equals]), String(line.value[line.value.index(after: equals)...]))
        }
    }
}

/// A system user as a sysusers.d file describes it.
enum SystemUser {
    /// Creates `name` with `systemd-sysusers --root` (so only `root/etc/passwd` changes) and returns its ids;
    /// without systemd-sysusers, checks the file declares `name` and returns an unused system id.
    static func create(_ name: String, from file: String, root: String) throws -> (uid_t, gid_t) {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let declared = text.split(separator: "\n").contains {
            $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2) == ["u", Substring(name)]
        }
        guard declared else { throw RawHTTPError(message: "\(file) does not declare user \(name)") }
        let sysusers = "/usr/bin/systemd-sysusers"
        guard FileManager.default.isExecutableFile(atPath: sysusers) else {
            print("systemd-sysusers is missing: running as an unused system id instead of a created user")
            return (60_999, 60_999)
        }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sysusers)
        process.arguments = ["--root=\(root)", file]
        try process.run()
        process.waitUntilExit()
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        guard
            let entry = passwd.split(separator: "\n").map({ $0.split(separator: ":", omittingEmptySubsequences: false) }
            )
            .first(where: { $0.first.map(String.init) == name }), entry.count > 3,
            let uid = uid_t(entry[2]), let gid = gid_t(entry[3])
        else { throw RawHTTPError(message: "systemd-sysusers did not create \(name) from \(file)") }
        return (uid, gid)
    }
}
