import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real nginx (`/usr/sbin/nginx`) on a free loopback port, with a temp prefix and config. Stopped (SIGKILL of
/// its single process, `master_process off`) by `stop()` or deinit.
public final class NginxServer: @unchecked Sendable {
    // @unchecked: immutable after init except `process`, which only `stop()` touches.
    public static let binary = "/usr/sbin/nginx"
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    public let port: Int
    public let prefix: URL
    public let scheme: String
    private let process: Process

    public var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    /// - Parameters:
    ///   - locations: nginx `location` blocks (text) for the server block.
    ///   - tls: PEM certificate and key paths to serve HTTPS with.
    public init(locations: String, tls: (cert: String, key: String)? = nil) throws {
        prefix = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: prefix.appendingPathComponent("logs"),
            withIntermediateDirectories: true
        )
        port = try LoopbackServer.freePort()
        scheme = tls == nil ? "http" : "https"
        let listen = tls == nil ? "listen 127.0.0.1:\(port);" : "listen 127.0.0.1:\(port) ssl;"
        let tlsLines = tls.map { "ssl_certificate \($0.cert);\n        ssl_certificate_key \($0.key);" } ?? ""
        let p = prefix.path
        let config = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(p)/nginx.pid;
            error_log \(p)/logs/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(p)/body;
                proxy_temp_path \(p)/proxy;
                fastcgi_temp_path \(p)/fastcgi;
                uwsgi_temp_path \(p)/uwsgi;
                scgi_temp_path \(p)/scgi;
                default_type text/plain;
                server {
                    \(listen)
                    \(tlsLines)
                    \(locations)
                }
            }
            """
        let configPath = prefix.appendingPathComponent("nginx.conf")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-p", p, "-c", configPath.path, "-e", "\(p)/logs/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait (generously) until the port accepts connections.
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port: port) {
            if !process.isRunning || Date() > deadline {
                let log =
                    (try? String(contentsOf: prefix.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? ""
                stop()
                throw ServerError("nginx did not start on port \(port): \(log)")
            }
            usleep(20_000)
        }
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: prefix)
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A self-signed certificate for 127.0.0.1 made with the `openssl` CLI, valid for `days`.
public struct SelfSignedCertificate: Sendable {
    public static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    public let directory: URL
    public var certPath: String { directory.appendingPathComponent("cert.pem").path }
    public var keyPath: String { directory.appendingPathComponent("key.pem").path }

    public init(days: Int) throws {
        guard let openssl = Self.openssl else { throw ServerError("openssl not installed") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
            "-days", String(days), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServerError("openssl req failed") }
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }
}
