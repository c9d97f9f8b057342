import Foundation
import Monitor
import Testing

/// `store_outage.notify_after` and `store_outage.connection_wait`: defaults, values, mistakes named.
@Suite struct StoreOutageSettingsTests {
    let properties = "properties:\n  - name: api\n    url: https://api.example/healthz\n"

    func parse(_ yaml: String) throws(ConfigErrors) -> MonitorConfig {
        try ConfigLoader.parse(yaml: yaml + properties, file: "monitor.yaml", environment: [:])
    }

    @Test func defaultsAndValues() throws {
        let defaults = try parse("").storeOutage
        #expect(defaults.notifyAfter == .seconds(30) && defaults.connectionWait == .seconds(5))
        let set = try parse("store_outage:\n  notify_after: 2m\n  connection_wait: 500ms\n").storeOutage
        #expect(set.notifyAfter == .seconds(120) && set.connectionWait == .milliseconds(500))
    }

    @Test func mistakesAreNamed() {
        let cases: [(String, String)] = [
            ("store_outage:\n  notify_after: soon\n", "monitor.yaml: store_outage.notify_after: expected a duration"),
            ("store_outage:\n  connection_wait: 90s\n", "monitor.yaml: store_outage.connection_wait: must be between"),
            ("store_outage:\n  grace: 1s\n", "monitor.yaml: store_outage"),
            ("store_outage: 30s\n", "monitor.yaml: store_outage: expected a mapping"),
        ]
        for (yaml, expected) in cases {
            #expect {
                try parse(yaml)
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }
}
