import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Every error `ConfigLoader` reports for `yaml` (read as `monitor.yaml`), as printed.
func configErrors(_ yaml: String, env: [String: String] = [:]) -> [String] {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: env)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// Issue 15: each property's own interval, timeout and thresholds override the global ones.
@Suite struct PerPropertyScheduleTests {
    @Test func propertyKeysOverrideTheGlobalOnes() throws {
        let yaml = """
            interval: 60s
            failure_threshold: 2
            cert_warning_days: 14
            properties:
              - name: fast
                url: http://127.0.0.1:1/healthz
                interval: 5s
                timeout: 2s
                degraded_ms: 300
                failure_threshold: 3
                success_threshold: 2
                confirmation_delay: false
                cert_warning_days: 30
              - name: plain
                url: http://127.0.0.1:1/healthz
            """
        let config = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: [:])
        let fast = try #require(config.property(named: "fast"))
        let plain = try #require(config.property(named: "plain"))
        #expect(config.interval(for: fast) == .seconds(5))
        #expect(config.interval(for: plain) == .seconds(60))
        #expect(fast.timeout == .seconds(2))
        #expect(fast.degradedMs == 300)
        #expect(fast.schedule.failureThreshold == 3)
        #expect(fast.schedule.successThreshold == 2)
        #expect(fast.schedule.confirmationDelay == .zero)
        #expect(fast.certWarningDays == 30)
        #expect(plain.schedule == PropertySchedule())
        #expect(plain.certWarningDays == nil)
    }

    @Test func shippedChecksExampleIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/checks.example.yaml").path
        let config = try ConfigLoader.load(
            path: path,
            environment: ["API_TOKEN": "example-token", "STATUS_PASSWORD": "example-password"]
        )
        #expect(config.properties.map(\.name) == ["orders-api", "status-page", "postgres", "api-dns"])
        #expect(config.property(named: "orders-api")?.conditions.count == 6)
        #expect(config.property(named: "postgres")?.check == .tcp(host: "db.internal", port: 5432))
        #expect(config.maintenance.map(\.name) == ["sunday-patching", "db-migration"])
    }

    @Test func badPropertyThresholdsNameTheirKey() {
        let yaml = """
            properties:
              - name: api
                url: http://127.0.0.1:1/healthz
                interval: 0s
                failure_threshold: 1
            """
        let errors = configErrors(yaml)
        #expect(errors.contains("monitor.yaml: properties[0].interval: must be greater than zero"), "\(errors)")
        #expect(errors.contains("monitor.yaml: properties[0].failure_threshold: must be between 2 and 100, got 1"))
    }

    /// The scheduler honours each property's interval: the fast one is probed many times while the other,
    /// on the global hour, is probed once.
    @Test func schedulerHonoursEachPropertysInterval() async throws {
        let dir = try TempDir()
        let hits = Mutex<[String: Int]>([:])
        let server = try LoopbackServer { request in
            let path = String(request.target.prefix { $0 != "?" })
            hits.withLock { $0[path, default: 0] += 1 }
            return .respond(status: 200, body: "ok")
        }
        defer { server.stop() }
        var fast = PropertyConfig(name: "fast", url: "\(server.baseURL)/fast", timeout: .seconds(5))
        fast.schedule.interval = .milliseconds(150)
        let config = MonitorConfig(
            interval: .seconds(3600),
            storePath: dir.dbPath,
            properties: [fast, PropertyConfig(name: "slow", url: "\(server.baseURL)/slow", timeout: .seconds(5))]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await runtime.monitor.run() }
            #expect(await waitFor { hits.withLock { $0["/fast"] ?? 0 } >= 4 })
            group.cancelAll()
        }
        #expect(hits.withLock { $0["/slow"] } == 1)
    }

    /// A property's own failure threshold decides when its incident opens; its neighbour keeps the global one.
    @Test func propertyFailureThresholdDecidesWhenItsIncidentOpens() async throws {
        let dir = try TempDir()
        let server = try LoopbackServer { _ in .respond(status: 503, body: "down") }
        defer { server.stop() }
        var patient = PropertyConfig(name: "patient", url: "\(server.baseURL)/a", timeout: .seconds(5))
        patient.schedule.failureThreshold = 3
        let config = MonitorConfig(
            interval: .seconds(3600),
            confirmationDelay: nil,
            storePath: dir.dbPath,
            properties: [patient, PropertyConfig(name: "eager", url: "\(server.baseURL)/b", timeout: .seconds(5))]
        )
        let runtime = try MonitorRuntime(config: config, logger: quietLogger)
        _ = await runtime.monitor.checkNow()
        _ = await runtime.monitor.checkNow()
        #expect(try runtime.store.state(of: "eager")?.health == .down)
        #expect(try runtime.store.state(of: "patient")?.health == .healthy)
        _ = await runtime.monitor.checkNow()
        #expect(try runtime.store.state(of: "patient")?.health == .down)
    }
}
