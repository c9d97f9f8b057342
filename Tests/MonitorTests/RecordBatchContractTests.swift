import ActionKit
import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// `MonitorStorage.record(batch:)` on both backends: results recorded together in one transaction leave exactly
/// what recording them one by one leaves (states, incidents and their records, outbox rows, history samples),
/// each answered in request order; and a batch that fails writes nothing at all, so every one of its results
/// can be recorded again (the monitor does, one by one, or keeps them while the store is unreachable).
@Suite struct RecordBatchContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: nil)

    /// Three rounds of three properties: `api` and `web` share a host and service (one incident), `db` has its
    /// own; opened, joined, escalated and recovered within the rounds.
    func rounds() -> [[RecordRequest]] {
        let plan: [[(String, Health)]] = [
            [("web", .healthy), ("api", .down), ("db", .degraded)],
            [("db", .degraded), ("api", .down), ("web", .down)],
            [("web", .down), ("db", .down), ("api", .healthy)],
            [("api", .healthy), ("db", .down), ("web", .healthy)],
        ]
        return plan.enumerated().map { round, results in
            results.enumerated().map { index, pair in
                let at = t0.addingTimeInterval(Double(round * 10 + index))
                let result = ProbeResult(
                    property: pair.0,
                    url: "https://\(pair.0).example/healthz",
                    at: at,
                    health: pair.1,
                    status: pair.1 == .down ? 503 : 200
                )
                return RecordRequest(
                    result,
                    sample: HistorySample(result, location: "solo"),
                    policy: policy,
                    incidentGroup: pair.0 == "db" ? nil : "default/api-core",
                    now: at,
                    message: { event in
                        PlainMessage(text: "\(event.result.property) \(event.transition.to.rawValue)")
                    }
                )
            }
        }
    }

    /// Everything the store keeps about the properties, ids left out where they only number rows.
    func snapshot(_ storage: any MonitorStorage) async throws -> [String] {
        var lines = try await storage.allStates().sorted { $0.name < $1.name }.map { "state \($0)" }
        for incident in try await storage.incidents(for: nil).sorted(by: { $0.openedAt < $1.openedAt }) {
            lines.append(
                "incident \(incident.property) \(incident.health) \(incident.openedAt) \(String(describing: incident.closedAt))"
            )
            for event in try await storage.incidentEvents(incidentID: incident.id) {
                lines.append("  event \(event.kind) \(event.at) \(try canonical(event.payload))")
            }
        }
        for row in try await storage.allOutbox() { lines.append("outbox \(row.kind) \(row.payload)") }
        let history = try #require(storage as? any HistoryStorage)
        for sample in try await history.samples(property: nil, from: t0, to: t0.addingTimeInterval(3600)) {
            lines.append("sample \(sample)")
        }
        return lines
    }

    /// `payload` as JSON with sorted keys (a dictionary's own description has no fixed order).
    func canonical(_ payload: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(payload), as: UTF8.self)
    }

    func one(_ storage: any MonitorStorage, _ request: RecordRequest) async throws -> RecordOutcome {
        if let sample = request.sample { try await (storage as? any HistoryStorage)?.appendSample(sample) }
        return try await storage.record(request)
    }

    @Test(arguments: StorageBackend.available)
    func aBatchRecordsWhatOneByOneRecords(_ backend: StorageBackend) async throws {
        let (alone, keepAlone) = try backend.make()
        let (together, keepTogether) = try backend.make()
        defer { withExtendedLifetime((keepAlone, keepTogether)) {} }
        for round in rounds() {
            var expected: [String] = []
            for request in round {
                let outcome = try await one(alone, request)
                expected.append("\(outcome.state.name) \(String(describing: outcome.transition))")
            }
            let outcomes = try await together.record(batch: round)
            // Answered in request order, although a batch takes its properties' rows in name order.
            #expect(outcomes.map { "\($0.state.name) \(String(describing: $0.transition))" } == expected)
        }
        let recorded = try await snapshot(together)
        let expected = try await snapshot(alone)
        #expect(recorded == expected, "\(recorded.difference(from: expected))")
        // The scenario did what it is for: api's incident (joined by web) opened and closed, db's still open.
        #expect(
            recorded.filter { $0.hasPrefix("incident") }.map { $0.split(separator: " ").prefix(3) } == [
                ["incident", "db", "down"], ["incident", "api", "healthy"],
            ]
        )
        #expect(recorded.contains { $0.hasPrefix("  event transition") && $0.contains(#""property":"web""#) })
        #expect(recorded.filter { $0.hasPrefix("outbox transition") }.count >= 4)
        #expect(recorded.filter { $0.hasPrefix("sample") }.count == 12)
    }

    @Test(arguments: StorageBackend.available)
    func oneBatchHoldsSeveralResultsOfAPropertyInOrder(_ backend: StorageBackend) async throws {
        let (alone, keepAlone) = try backend.make()
        let (together, keepTogether) = try backend.make()
        defer { withExtendedLifetime((keepAlone, keepTogether)) {} }
        let all = rounds().flatMap { $0 }
        for request in all { _ = try await one(alone, request) }
        let outcomes = try await together.record(batch: all)
        #expect(outcomes.map(\.state.name) == all.map(\.result.property))
        #expect(try await snapshot(together) == (try await snapshot(alone)))
    }

    @Test(arguments: StorageBackend.available)
    func aFailingBatchWritesNothing(_ backend: StorageBackend) async throws {
        let (storage, keep) = try backend.make()
        defer { withExtendedLifetime(keep) {} }
        let round = rounds()[0]
        _ = try await storage.allStates()  // PostgreSQL migrates on first use
        try poisonSamples(of: "db", storage: storage, keep: keep)
        await #expect(throws: (any Error).self) { _ = try await storage.record(batch: round) }
        #expect(try await snapshot(storage) == [])
        // Every result of the batch can still be recorded (here the ones the poison lets through).
        let outcomes = try await storage.record(batch: round.filter { $0.result.property != "db" })
        #expect(outcomes.map(\.state.name) == ["web", "api"])
        #expect(try await snapshot(storage).filter { $0.hasPrefix("sample") }.count == 2)
    }
}

/// Makes every history sample of `property` fail to insert (a trigger), so that a batch holding one fails.
func poisonSamples(of property: String, storage: any MonitorStorage, keep: AnyObject) throws {
    if let sqlite = storage as? MonitorStore {
        let sql = """
            CREATE TRIGGER poison BEFORE INSERT ON probe_samples WHEN NEW.property = '\(property)'
            BEGIN SELECT RAISE(ABORT, 'poisoned sample'); END;
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [sqlite.path, sql]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "sqlite3 could not create the trigger")
    } else {
        let database = try #require(keep as? PostgresTestStore)
        _ = try PostgresServer.shared().psql(
            """
            CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.property = '\(property)' THEN RAISE EXCEPTION 'poisoned sample'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER poison BEFORE INSERT ON probe_samples FOR EACH ROW EXECUTE FUNCTION poison();
            """,
            database: database.database
        )
    }
}
