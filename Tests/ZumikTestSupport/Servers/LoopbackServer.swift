import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A request received by a `LoopbackServer`.
public struct ReceivedRequest: Sendable {
    public var method: String
    public var target: String
    /// Lower-cased names.
    public var headers: [String: String]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 that tests fully control: each request is handed to a closure that
/// decides how to misbehave. One thread per connection, plain POSIX sockets, `Connection: close`.
public final class LoopbackServer: @unchecked Sendable {
    // @unchecked: mutable state is behind `state`; the fd is immutable after init.
    public enum Reply: Sendable {
        /// Answer after `delay` (seconds).
        case respond(status: Int, headers: [(String, String)] = [], body: String = "", delay: Double = 0)
        /// Close with SO_LINGER 0, so the client sees a connection reset.
        case reset
        /// Keep the connection open and never answer (until the server stops).
        case stall
    }

    public enum Mode: Sendable {
        /// Read an HTTP request, then ask the handler.
        case http(@Sendable (ReceivedRequest) -> Reply)
        /// Accept TCP and never read or write: a TLS client waits forever for the ServerHello.
        case acceptAndStall
    }

    public let port: Int
    private let listenFD: Int32
    private let mode: Mode
    private let state = Mutex<(stopped: Bool, open: Set<Int32>)>((false, []))

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Listens on `bindAddress` (default 127.0.0.1); in network namespace `namespace` when given (the listening
    /// socket is made there, see ``NetworkNamespace``).
    public init(_ mode: Mode, bindAddress: String = "127.0.0.1", namespace: String? = nil) throws {
        self.mode = mode
        let (fd, port) =
            try namespace.map { name in
                try NetworkNamespace.run(in: name) { try Self.listen(bindAddress: bindAddress) }
            } ?? Self.listen(bindAddress: bindAddress)
        self.listenFD = fd
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    public convenience init(
        bindAddress: String = "127.0.0.1",
        namespace: String? = nil,
        handler: @escaping @Sendable (ReceivedRequest) -> Reply
    ) throws {
        try self.init(.http(handler), bindAddress: bindAddress, namespace: namespace)
    }

    deinit { stop() }

    /// Stops accepting and closes every open connection.
    public func stop() {
        let fds: Set<Int32>? = state.withLock { s in
            if s.stopped { return nil }
            s.stopped = true
            let fds = s.open
            s.open = []
            return fds
        }
        guard let fds else { return }
        Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        for fd in fds {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    /// A loopback port that nothing listens on (bound, then closed).
    public static func closedPort() throws -> Int {
        let (fd, port) = try listen()
        close(fd)
        return port
    }

    /// A free loopback port for a server the test starts itself (e.g. nginx).
    public static func freePort() throws -> Int { try closedPort() }

    private static func listen(bindAddress: String = "127.0.0.1") throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr(bindAddress)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 1024) == 0 else {
            close(fd)
            throw ServerError("bind/listen: errno \(errno)")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let admitted = state.withLock { s -> Bool in
                if s.stopped { return false }
                s.open.insert(client)
                return true
            }
            guard admitted else {
                close(client)
                return
            }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func release(_ fd: Int32) {
        let owned = state.withLock { $0.open.remove(fd) != nil }
        if owned { close(fd) }
    }

    private func serve(_ fd: Int32) {
        guard case .http(let handler) = mode else { return }  // acceptAndStall: hold until stop()
        guard let request = Self.readRequest(fd) else {
            release(fd)
            return
        }
        switch handler(request) {
        case .respond(let status, let headers, let body, let delay):
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
            let bytes = Array(body.utf8)
            var hasType = false
            for (name, value) in headers {
                text += "\(name): \(value)\r\n"
                if name.lowercased() == "content-type" { hasType = true }
            }
            if !hasType { text += "Content-Type: text/plain\r\n" }
            text += "Content-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            Self.writeAll(fd, Array(text.utf8) + bytes)
            release(fd)
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            release(fd)
        case .stall:
            return
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private static func readRequest(_ fd: Int32) -> ReceivedRequest? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            data.append(contentsOf: buffer[0..<n])
            if data.count >= 4 {
                for i in max(0, data.count - n - 3)...(data.count - 4) where Array(data[i..<(i + 4)]) == separator {
                    headerEnd = i
                    break
                }
            }
            if data.count > 1 << 20 { return nil }
        }
        let head = String(decoding: data[0..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(headerEnd! + 4)...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            body.append(contentsOf: buffer[0..<n])
        }
        return ReceivedRequest(
            method: String(requestLine[0]),
            target: String(requestLine[1]),
            headers: headers,
            body: body
        )
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
