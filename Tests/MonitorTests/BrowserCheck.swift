import Foundation
import Monitor
import Probing
import ZumikTestSupport

/// Runs `Tests/Fixtures/status-page/check_pages.py` (selenium, chromedriver, Chromium) and what it needs.
enum BrowserCheck {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = root.appendingPathComponent("Tests/Fixtures/status-page/check_pages.py").path
    /// The per-location check of the public page (`FleetStatusPageBrowserTests`).
    static let locationsScript = root.appendingPathComponent("Tests/Fixtures/status-page/check_locations.py").path
    /// Where the screenshots go: `.build/test-artifacts/status-page/`.
    static let artifacts = root.appendingPathComponent(".build/test-artifacts/status-page").path

    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") && python3 != nil
    }

    /// The first `python3` on `PATH` (then /usr/bin, /usr/local/bin) that can import selenium.
    static let python3: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = dir + "/python3"
            guard FileManager.default.isExecutableFile(atPath: candidate) else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-c", "import selenium"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    /// 89 days before today (daily rows) and today's complete hours (hourly rows and today's daily row so far).
    static func seed(_ history: any HistoryStorage, properties: [String], now: Date) async throws {
        let today = HistoryBucket.start(of: now, .day)
        let hour = HistoryBucket.start(of: now, .hour)
        for (index, name) in properties.enumerated() {
            _ = try await HistorySeed.fill(
                history,
                properties: 1,
                days: 89,
                hourlyDays: 1,
                end: today,
                names: { _ in name }
            )
            var day = HistoryBucket(property: name, start: today, length: .day)
            var hours: [HistoryBucket] = []
            var start = today
            while start < hour {
                let bucket = HistorySeed.bucket(name, start, seed: index * 1000 + hours.count + 1)
                hours.append(bucket)
                day.merge(bucket)
                start += 3600
            }
            try await history.importBuckets(hours.isEmpty ? [] : hours + [day])
        }
    }

    static func writeExpectations(summary: StatusSummary, timelines: [IncidentTimeline], to path: String) throws {
        struct Expected: Encodable {
            var title: String
            var properties: [PropertySummary]
            var incidents: [IncidentSummary]
            var timelines: [IncidentTimeline]
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(
            Expected(
                title: summary.title,
                properties: summary.properties,
                incidents: summary.incidents,
                timelines: timelines
            )
        ).write(to: URL(fileURLWithPath: path))
    }

    /// Runs the checker; its exit status and everything it printed.
    static func run(base: String, expected: String, out: String, script: String = script) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python3 ?? "/usr/bin/python3")
        process.arguments = [script, "--base", base, "--expected", expected, "--out", out]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}
