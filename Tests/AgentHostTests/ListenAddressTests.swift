import ServerSupport
import Testing

@Suite struct ListenAddressTests {
    @Test func parsesTCPAndUnixSocketForms() {
        #expect(ListenAddress("127.0.0.1:8787") == .tcp(host: "127.0.0.1", port: 8787))
        #expect(ListenAddress("[::1]:0") == .tcp(host: "::1", port: 0))
        #expect(
            ListenAddress("unix:/run/zumik-ops-agent/agent.sock")
                == .unixSocket(path: "/run/zumik-ops-agent/agent.sock")
        )
        for bad in [
            "localhost:80", "127.0.0.1", "127.0.0.1:70000", "[::1]8787", "unix:relative.sock",
            "unix:/" + String(repeating: "a", count: 120),
        ] {
            #expect(ListenAddress(bad) == nil, "\(bad)")
        }
    }
}
