import Foundation
import Probing
import Testing
import ZumikTestSupport

@testable import Monitor

/// The monitor's grouped recording (`MonitorService+Recording.swift`): a batch the store refuses is recorded
/// again one result at a time, so one bad result costs the others nothing; a batch the store cannot take
/// (unreachable) leaves every result kept, and each is recorded, in order, once the store answers.
@Suite struct GroupedRecordingTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func config() -> MonitorConfig {
        var config = MonitorConfig(
            interval: .seconds(3600),
            failureThreshold: 2,
            properties: ["api", "db", "web"].map { PropertyConfig(name: $0, url: "http://127.0.0.1:9/\($0)") }
        )
        config.store.location = "solo"
        return config
    }

    func monitor(_ storage: any MonitorStorage, health: StoreHealth = StoreHealth(backend: "sqlite")) -> MonitorService
    {
        MonitorService(
            config: config(),
            store: storage,
            transport: CurlEngine(maxInFlight: 4),
            outbox: AlertOutbox(store: storage, signal: WakeSignal()),
            logger: quietLogger,
            history: storage as? any HistoryStorage,
            storeHealth: health
        )
    }

    func down(_ property: String, _ offset: TimeInterval) -> ProbeResult {
        ProbeResult(property: property, url: "http://127.0.0.1:9/\(property)", at: t0 + offset, health: .down)
    }

    func samples(_ storage: any MonitorStorage) async throws -> [String] {
        let history = try #require(storage as? any HistoryStorage)
        return try await history.samples(property: nil, from: t0, to: t0 + 3600).map {
            "\($0.property) \($0.at.timeIntervalSince(t0))"
        }
    }

    @Test(arguments: StorageBackend.available)
    func aBatchTheStoreRefusesIsRecordedOneByOne(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        defer { withExtendedLifetime(keep) {} }
        _ = try await storage.allStates()  // PostgreSQL migrates on first use
        try poisonSamples(of: "db", storage: storage, keep: keep)
        let monitor = monitor(storage)
        let requests = config().properties.map { property in
            var request = monitor.recordRequest(down(property.name, 0), property: property, replayed: false)
            request.sample = HistorySample(request.result, location: "solo")
            return request
        }
        let attempts = await monitor.recordBatch(requests)
        #expect(attempts.count == 3)
        for attempt in attempts {
            guard case .recorded = attempt else {
                Issue.record("not recorded: \(attempt)")
                continue
            }
        }
        // Every state recorded; only db's sample (the one the store refused) is missing.
        #expect(try await storage.allStates().map(\.name) == ["api", "db", "web"])
        #expect(try await storage.allStates().allSatisfy { $0.consecutiveFailures == 1 })
        #expect(try await samples(storage) == ["api 0.0", "web 0.0"])
    }

    @Test(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
    func resultsOfABatchTheStoreCannotTakeAreKeptAndRecordedInOrder() async throws {
        let own = try PostgresReachabilityTests.OwnServer()
        defer { own.close() }
        let (server, store, health) = (own.server, own.store, own.health)
        _ = try await store.allStates()
        let monitor = monitor(store, health: health)
        let properties = config().properties
        try server.stop(mode: "fast")
        await withTaskGroup(of: Void.self) { group in
            for property in properties {
                group.addTask {
                    await monitor.recordKeepingWhatTheStoreCannotTake(down(property.name, 0), property: property)
                }
            }
        }
        #expect(monitor.unrecorded.count == 3)
        try server.start()
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while (try? await store.allStates()) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(health.isReachable)
        await withTaskGroup(of: Void.self) { group in
            for property in properties {
                group.addTask {
                    await monitor.recordKeepingWhatTheStoreCannotTake(down(property.name, 1), property: property)
                }
            }
        }
        #expect(monitor.unrecorded.count == 0)
        // Each property's kept result, then its new one: two failures in a row confirm it down, once.
        let states = try await store.allStates()
        #expect(states.map(\.name) == ["api", "db", "web"])
        #expect(states.allSatisfy { $0.health == .down && $0.consecutiveFailures == 2 })
        #expect(try await store.openIncidentCount() == 3)
        #expect(try await samples(store).sorted() == ["api 0.0", "api 1.0", "db 0.0", "db 1.0", "web 0.0", "web 1.0"])
    }
}
