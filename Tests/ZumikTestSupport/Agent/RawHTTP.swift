import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 client over a blocking loopback socket, one connection per request, so tests
/// can send hostile request lines byte for byte. Each call blocks a thread of its own.
public struct RawHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw RawHTTPError(message: "not a JSON object: \(text)")
        }
        return object
    }

    public var errorMessage: String? {
        ((try? json())?["error"] as? [String: Any])?["message"] as? String
    }
}

public struct RawHTTPError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

public enum RawHTTP {
    public static func send(
        port: Int,
        method: String,
        path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        host: String = "127.0.0.1",
        namespace: String? = nil
    ) async throws -> RawHTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + body
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        if let namespace { try NetworkNamespace.join(namespace) }
                        return try exchange(host: host, port: port, bytes: bytes)
                    }
                )
            }
        }
    }

    public static func get(port: Int, _ path: String, token: String? = nil) async throws -> RawHTTPResponse {
        try await send(
            port: port,
            method: "GET",
            path: path,
            headers: token.map { [("Authorization", "Bearer \($0)")] } ?? []
        )
    }

    public static func post(port: Int, _ path: String, token: String?, json: String = "") async throws
        -> RawHTTPResponse
    {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try await send(port: port, method: "POST", path: path, headers: headers, body: Array(json.utf8))
    }

    private static func exchange(host: String, port: Int, bytes: [UInt8]) throws -> RawHTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(message: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw RawHTTPError(message: "connect 127.0.0.1:\(port): errno \(errno)") }
        return try exchange(fd: fd, bytes: bytes)
    }

    /// Sends `bytes` on a connected socket and reads one response (until complete or closed).
    static func exchange(fd: Int32, bytes: [UInt8]) throws -> RawHTTPResponse {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { break }  // the server may answer (413) and close before reading everything
            offset += sent
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: buffer[0..<count])
            if let response = try? parse(received), response.complete { return response.response }
        }
        guard let parsed = try? parse(received) else {
            throw RawHTTPError(message: "no HTTP response (\(received.count) bytes)")
        }
        return parsed.response
    }

    static func parse(_ data: [UInt8]) throws -> (response: RawHTTPResponse, complete: Bool) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.indices.first(where: { data[$0...].starts(with: separator) }) else {
            throw RawHTTPError(message: "incomplete head")
        }
        let head = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw RawHTTPError(message: "bad status line")
        }
        var headers: [(String, String)] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        var body = Array(data[(end + 4)...])
        var complete = false
        if let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap({ Int($0.1) }) {
            complete = body.count >= length
            body = Array(body.prefix(length))
        } else if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased() == "chunked" }
        ) {
            var decoded: [UInt8] = []
            var index = 0
            while true {
                guard
                    let lineEnd = (index..<max(index, body.count - 1)).first(where: {
                        body[$0] == 13 && body[$0 + 1] == 10
                    }),
                    let size = Int(String(decoding: body[index..<lineEnd], as: UTF8.self), radix: 16)
                else { break }
                if size == 0 {
                    complete = true
                    break
                }
                let start = lineEnd + 2
                guard body.count >= start + size + 2 else { break }
                decoded.append(contentsOf: body[start..<(start + size)])
                index = start + size + 2
            }
            body = decoded
        }
        return (RawHTTPResponse(status: status, headers: headers, body: body), complete)
    }
}
