import Foundation
import Monitor
import Testing

/// `store`, `location` and `ZUMIK_DATABASE_URL`: read, checked, and the connection string never shown.
@Suite struct StoreSettingsTests {
    let properties = "properties:\n  - name: api\n    url: https://api.example/healthz\n"

    func parse(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigErrors) -> MonitorConfig {
        try ConfigLoader.parse(yaml: yaml + properties, file: "monitor.yaml", environment: environment)
    }

    @Test func sqliteIsTheDefaultAndTheLocationTheHostName() throws {
        let config = try parse("")
        guard case .sqlite = config.store.backend else {
            Issue.record("expected sqlite")
            return
        }
        #expect(config.store.location == StoreSettings.defaultLocation)
        #expect(!config.store.location.isEmpty)
    }

    @Test func postgresTakesItsConnectionStringFromTheEnvironment() throws {
        let config = try parse(
            "store: postgres\nlocation: fra-1\n",
            ["ZUMIK_DATABASE_URL": "postgres://zumik:pw-123@db.internal/zumik?sslmode=disable"]
        )
        guard case .postgres(let connection) = config.store.backend else {
            Issue.record("expected postgres")
            return
        }
        #expect(connection.host == "db.internal" && connection.port == 5432 && connection.database == "zumik")
        #expect(config.store.location == "fra-1")
        #expect(config.storeSummary == "postgres://zumik@db.internal:5432/zumik")
        #expect(try parse("location: fra-1\n", ["ZUMIK_LOCATION": "ams-2"]).store.location == "ams-2")
    }

    @Test func mistakesAreNamedWithoutTheCredentials() {
        let cases: [(String, [String: String], String)] = [
            (
                "store: postgres\n", [:],
                "monitor.yaml: store: postgres needs the connection string in the environment variable ZUMIK_DATABASE_URL"
            ),
            ("store: mysql\n", [:], "monitor.yaml: store: must be sqlite or postgres, not \"mysql\""),
            ("location: Frankfurt 1\n", [:], "monitor.yaml: location: not a location name"),
            ("", ["ZUMIK_LOCATION": "../x"], "environment: ZUMIK_LOCATION: not a location name"),
            (
                "store: postgres\n", ["ZUMIK_DATABASE_URL": "postgres://zumik:pw-123@db.internal"],
                "environment: ZUMIK_DATABASE_URL: no database name (the path) in \"postgres://***@db.internal\""
            ),
        ]
        for (yaml, environment, expected) in cases {
            #expect {
                try parse(yaml, environment)
            } throws: { error in
                let text = "\(error)"
                return text.hasPrefix(expected) && !text.contains("pw-123")
            }
        }
    }
}
