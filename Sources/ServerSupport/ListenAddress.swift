#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a server listens: an IP literal and a port (`HOST:PORT`, `[V6]:PORT`), or a Unix domain
/// socket (`unix:/absolute/path`).
public enum ListenAddress: Sendable, Hashable {
    case tcp(host: String, port: Int)
    case unixSocket(path: String)

    /// Parses `HOST:PORT` (an IP literal host, port 0…65535), `[V6]:PORT` or `unix:/PATH`.
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst("unix:".count))
            guard Self.isUnixSocketPath(path) else { return nil }
            self = .unixSocket(path: path)
            return
        }
        guard let (host, port) = Self.parse(text) else { return nil }
        self = .tcp(host: host, port: port)
    }

    /// `HOST:PORT` or `[V6]:PORT` with an IP literal host and a port 0…65535.
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard isIPLiteral(String(host)), portText.allSatisfy(\.isASCII), let port = Int(portText),
            (0...65535).contains(port)
        else { return nil }
        return (String(host), port)
    }

    public static func isIPLiteral(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// An absolute path that fits `sockaddr_un` (under 108 bytes).
    public static func isUnixSocketPath(_ path: String) -> Bool {
        path.hasPrefix("/") && path.utf8.count < 108 && !path.utf8.contains(0)
    }
}
