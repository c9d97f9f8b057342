import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 15: TCP connect and DNS resolution checks, against a real listening socket, a closed port and
/// names `/etc/hosts` resolves (no outside resolver is asked).
@Suite struct SocketCheckTests {
    let prober = Prober(transport: CurlEngine(maxInFlight: 4))

    func property(_ yaml: String) throws -> PropertyConfig {
        let config = try ConfigLoader.parse(yaml: "properties:\n" + yaml, file: "monitor.yaml", environment: [:])
        return try #require(config.properties.first)
    }

    @Test func tcpConnectToAListeningSocketIsHealthyAndToAClosedPortDown() async throws {
        let server = try LoopbackServer(.acceptAndStall)
        defer { server.stop() }
        // Bound but not listening, and held for the whole test: refused, and no parallel test can take the port.
        let (closedFD, closed) = try Self.boundNotListening()
        defer { close(closedFD) }
        let open = try property("  - {name: db, type: tcp, address: \"127.0.0.1:\(server.port)\", timeout: 2s}")
        let shut = try property("  - {name: gone, type: tcp, address: \"127.0.0.1:\(closed)\", timeout: 2s}")
        #expect(open.url == "tcp://127.0.0.1:\(server.port)")
        let results = await prober.probeAll([open.target, shut.target])
        #expect(results[0].health == .healthy, "\(results[0].reasons)")
        #expect(results[0].url == "tcp://127.0.0.1:\(server.port)")
        #expect(results[1].health == .down)
        #expect(
            results[1].reasons.first?.hasPrefix("connection failed: connect to 127.0.0.1:\(closed): ") == true,
            "\(results[1].reasons)"
        )
        #expect(results[1].error?.kind == .connect)
    }

    static func boundNotListening() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw RawHTTPError(message: "cannot bind a loopback socket: errno \(errno)") }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    @Test func dnsResolutionOfHostsFileNames() async throws {
        let plain = try property("  - {name: resolver, type: dns, query: localhost}")
        let pinned = try property(
            "  - {name: pinned, type: dns, query: localhost, record_type: A, expect: [127.0.0.1]}"
        )
        let wrong = try property("  - {name: wrong, type: dns, query: localhost, expect: [10.1.2.3]}")
        let results = await prober.probeAll([plain.target, pinned.target, wrong.target])
        #expect(results[0].health == .healthy, "\(results[0].reasons)")
        #expect(results[1].health == .healthy, "\(results[1].reasons)")
        #expect(results[2].health == .down)
        #expect(results[2].reasons == ["DNS lookup failed: localhost A answered 127.0.0.1, expected 10.1.2.3"])
        #expect(results[0].url == "dns://localhost/A")
    }

    @Test func socketCheckKeysAreValidated() {
        let errors = configErrors(
            """
            properties:
              - {name: a, type: tcp}
              - {name: b, type: tcp, address: "db:notaport"}
              - {name: c, type: dns}
              - {name: d, type: dns, query: localhost, record_type: MX, expect: [not-an-ip]}
              - {name: e, type: tcp, address: "db:5432", url: "http://db/", conditions: ["[STATUS] == 200"]}
              - {name: f, type: ftp}
              - {name: g, url: "http://x/", query: localhost}
            """
        )
        #expect(errors.contains("monitor.yaml: properties[0].address: required for type: tcp (HOST:PORT)"), "\(errors)")
        #expect(
            errors.contains(
                "monitor.yaml: properties[1].address: expected HOST:PORT such as db.internal:5432, got \"db:notaport\""
            )
        )
        #expect(errors.contains("monitor.yaml: properties[2].query: required for type: dns (the name to resolve)"))
        #expect(
            errors.contains(
                "monitor.yaml: properties[3].record_type: must be A or AAAA (what getaddrinfo answers), got \"MX\""
            )
        )
        #expect(errors.contains("monitor.yaml: properties[3].expect[0]: expected an IPv4 address, got \"not-an-ip\""))
        #expect(errors.contains("monitor.yaml: properties[4].url: only for http checks (this property has type: tcp)"))
        #expect(
            errors.contains(
                "monitor.yaml: properties[4].conditions: only for http checks (this property has type: tcp)"
            )
        )
        #expect(errors.contains("monitor.yaml: properties[5].type: must be http, tcp or dns, got \"ftp\""))
        #expect(errors.contains("monitor.yaml: properties[6].query: only for type: dns"))
    }
}
