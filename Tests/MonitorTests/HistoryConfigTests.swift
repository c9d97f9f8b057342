import Foundation
import Monitor
import Testing

/// The `history:` and `status_page:` keys: defaults, values, and errors naming the key.
@Suite struct HistoryConfigTests {
    let properties = """
        properties:
          - name: api
            url: https://api.zumik.ai/healthz
          - name: web
            url: https://zumik.ai/
        """

    func errors(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: [:])
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func defaultsKeepRawFor48HoursAndThePageBehindTheToken() throws {
        let config = try ConfigLoader.parse(yaml: properties, file: "monitor.yaml", environment: [:])
        #expect(config.history.rawRetention == 48 * 3600)
        #expect(config.history.hourlyRetention == 14 * 86400)
        #expect(config.history.dailyRetention == 400 * 86400)
        #expect(config.history.deliveredOutboxRetention == 7 * 86400)
        #expect(config.history.rollUpInterval == .seconds(300))
        #expect(config.statusPage == StatusPageSettings())
    }

    @Test func valuesAreRead() throws {
        let yaml = """
            \(properties)
            history:
              raw_retention: 72h
              hourly_retention: 30d
              daily_retention: 365d
              delivered_outbox_retention: 1d
              roll_up_interval: 1m
            status_page:
              title: Zumik
              public: true
              properties: [web]
            """
        let config = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: [:])
        #expect(config.history.rawRetention == 72 * 3600)
        #expect(config.history.hourlyRetention == 30 * 86400)
        #expect(config.history.dailyRetention == 365 * 86400)
        #expect(config.history.deliveredOutboxRetention == 86400)
        #expect(config.history.rollUpInterval == .seconds(60))
        #expect(config.statusPage == StatusPageSettings(title: "Zumik", isPublic: true, properties: ["web"]))
    }

    @Test func badValuesNameTheKey() {
        let e = errors(
            """
            \(properties)
            history:
              raw_retention: 1h
              hourly_retention: forever
              keep: 3
            status_page:
              public: maybe
              properties: [web, nope, web]
            """
        )
        #expect(e.contains("monitor.yaml: history.raw_retention: must be between 2h and 30d, got \"1h\""))
        #expect(
            e.contains(
                "monitor.yaml: history.hourly_retention: expected a retention such as 48h or 90d, got \"forever\""
            )
        )
        #expect(e.contains { $0.hasPrefix("monitor.yaml: history.keep: unknown key") })
        #expect(e.contains("monitor.yaml: status_page.public: expected true or false, got \"maybe\""))
        #expect(e.contains("monitor.yaml: status_page.properties[1]: unknown property \"nope\""))
        #expect(e.contains("monitor.yaml: status_page.properties[2]: \"web\" is listed twice"))
    }
}
