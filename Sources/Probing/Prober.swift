public import Foundation
import Synchronization

/// Probes properties through an `HTTPTransport`: fresh connection, edge cache bypassed (`Cache-Control` and
/// `Pragma: no-cache` plus a unique `zumik_probe` query parameter), then classified.
public struct Prober: Sendable {
    public let transport: any HTTPTransport
    public let certWarningDays: Int
    private let counter = Counter()

    public init(transport: any HTTPTransport, certWarningDays: Int = 14) {
        self.transport = transport
        self.certWarningDays = certWarningDays
    }

    /// Probes one property once.
    public func probe(_ property: ProbeTarget, now: @Sendable () -> Date = Date.init) async -> ProbeResult {
        switch property.check {
        case .http: break
        case .tcp(let host, let port):
            return SocketCheck.classify(
                await SocketCheck.connect(host: host, port: port, timeout: property.timeout),
                target: property,
                now: now()
            )
        case .dns(let name, let recordType, let expect):
            return SocketCheck.classify(
                await SocketCheck.resolve(name, recordType: recordType, expect: expect),
                target: property,
                now: now()
            )
        }
        let request = HTTPRequest(
            method: property.method,
            url: Self.cacheBusted(property.url, token: counter.next()),
            headers: Self.headers(property.headers),
            body: property.body.map { Array($0.utf8) },
            timeout: property.timeout,
            maxResponseBytes: 4 << 20,
            freshConnection: true,
            caFile: property.caFile,
            maxRedirects: property.maxRedirects
        )
        let result = await transport.send(request)
        return Classifier.classify(
            result,
            target: property,
            certWarningDays: property.certWarningDays ?? certWarningDays,
            now: now()
        )
    }

    /// Probes all properties concurrently (the transport caps transfers in flight); results in input order.
    public func probeAll(_ properties: [ProbeTarget], now: @escaping @Sendable () -> Date = Date.init) async
        -> [ProbeResult]
    {
        await withTaskGroup(of: (Int, ProbeResult).self) { group in
            for (index, property) in properties.enumerated() {
                group.addTask { (index, await probe(property, now: now)) }
            }
            var results = [ProbeResult?](repeating: nil, count: properties.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }

    /// The probe's own header fields, each replaced by the property's field of the same name, then the rest of
    /// the property's fields in their order.
    static func headers(_ own: [RequestHeader]) -> [(name: String, value: String)] {
        let given = Set(own.map { $0.name.lowercased() })
        let defaults = [
            (name: "Cache-Control", value: "no-cache"), (name: "Pragma", value: "no-cache"),
            (name: "User-Agent", value: "zumik-monitor/1"),
        ]
        return defaults.filter { !given.contains($0.name.lowercased()) } + own.map { (name: $0.name, value: $0.value) }
    }

    static func cacheBusted(_ url: String, token: String) -> String {
        let (base, fragment) = url.firstIndex(of: "#").map { (String(url[..<$0]), String(url[$0...])) } ?? (url, "")
        let separator = base.contains("?") ? "&" : "?"
        return "\(base)\(separator)zumik_probe=\(token)\(fragment)"
    }

    private final class Counter: Sendable {
        private let value = Mutex<UInt64>(0)
        private let prefix = String(UInt32.random(in: .min ... .max), radix: 36)
        func next() -> String {
            let n = value.withLock { v in
                v += 1
                return v
            }
            return "\(prefix)\(String(Int(Date().timeIntervalSince1970), radix: 36))\(n)"
        }
    }
}
