public import Foundation
import Yams

/// The `history:` subtree: how long the probe history is kept at each resolution, and how often it is rolled
/// up. Retentions are written `48h`, `14d` (hours or days) or a plain number of seconds.
///
/// - `history.raw_retention`: raw probe results (default 48h, 2h…30d);
/// - `history.hourly_retention`: hourly roll-ups, which the 24 h figure and the latency chart read
///   (default 14d, 7d…400d);
/// - `history.daily_retention`: daily roll-ups, which the 7 d / 30 d / 90 d figures and the 90-day bar read
///   (default 400d, 90d…3650d);
/// - `history.delivered_outbox_retention`: delivered alert rows (default 7d, 1h…3650d; pending and parked
///   rows are never deleted);
/// - `history.roll_up_interval`: how often the roll-up and pruning run (default 5m, 10s…1h).
public struct HistorySettings: Sendable, Hashable {
    public var rawRetention: TimeInterval = 48 * 3600
    public var hourlyRetention: TimeInterval = 14 * 86400
    public var dailyRetention: TimeInterval = 400 * 86400
    public var deliveredOutboxRetention: TimeInterval = 7 * 86400
    public var rollUpInterval: Duration = .seconds(300)

    public init() {}
}

/// The `status_page:` subtree: the pages the monitor serves (`/status`, `/status/operator`) and the badges.
///
/// - `status_page.title`: the page title (default `Status`);
/// - `status_page.public`: `true` serves the public page, its JSON and the badges without `CONTROL_TOKEN`
///   (default `false`: everything behind the token). The operator view always needs the token;
/// - `status_page.properties`: the property names the public page shows, in this order (default: all).
public struct StatusPageSettings: Sendable, Hashable {
    public var title: String = "Status"
    public var isPublic: Bool = false
    /// nil: every property, in configuration order.
    public var properties: [String]?

    public init(title: String = "Status", isPublic: Bool = false, properties: [String]? = nil) {
        self.title = title
        self.isPublic = isPublic
        self.properties = properties
    }
}

extension ConfigReader {
    /// The `history:` subtree; absent or null keeps every default.
    mutating func readHistory(_ node: Node) -> HistorySettings {
        var settings = HistorySettings()
        if node.tag.description == Tag.Name.null.rawValue { return settings }
        let allowed: Set<String> = [
            "raw_retention", "hourly_retention", "daily_retention", "delivered_outbox_retention", "roll_up_interval",
        ]
        guard let map = mapping(node, at: "history", allowed: allowed) else { return settings }
        let hour: TimeInterval = 3600
        let day: TimeInterval = 86400
        if let v = retention(map["raw_retention"], at: "history.raw_retention", range: 2 * hour...30 * day) {
            settings.rawRetention = v
        }
        if let v = retention(map["hourly_retention"], at: "history.hourly_retention", range: 7 * day...400 * day) {
            settings.hourlyRetention = v
        }
        if let v = retention(map["daily_retention"], at: "history.daily_retention", range: 90 * day...3650 * day) {
            settings.dailyRetention = v
        }
        if let v = retention(
            map["delivered_outbox_retention"],
            at: "history.delivered_outbox_retention",
            range: hour...3650 * day
        ) {
            settings.deliveredOutboxRetention = v
        }
        if let v = duration(map["roll_up_interval"], at: "history.roll_up_interval") {
            if v < .seconds(10) || v > .seconds(3600) {
                fail("history.roll_up_interval", "must be between 10s and 1h")
            } else {
                settings.rollUpInterval = v
            }
        }
        return settings
    }

    /// The `status_page:` subtree; `names` are the configured properties.
    mutating func readStatusPage(_ node: Node, names: [String]) -> StatusPageSettings {
        var settings = StatusPageSettings()
        if node.tag.description == Tag.Name.null.rawValue { return settings }
        guard let map = mapping(node, at: "status_page", allowed: ["title", "public", "properties"]) else {
            return settings
        }
        if let title = string(map["title"], at: "status_page.title") {
            let trimmed = title.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.unicodeScalars.count > 120 {
                fail("status_page.title", "must be a non-empty string of at most 120 characters")
            } else {
                settings.title = trimmed
            }
        }
        if let v = bool(map["public"], at: "status_page.public") { settings.isPublic = v }
        if let list = map["properties"] {
            guard case .sequence(let items) = list else {
                fail("status_page.properties", "expected a list of property names")
                return settings
            }
            var chosen: [String] = []
            for (i, item) in items.enumerated() {
                guard let name = string(item, at: "status_page.properties[\(i)]") else { continue }
                if !names.contains(name) {
                    fail("status_page.properties[\(i)]", "unknown property \"\(name)\"")
                } else if chosen.contains(name) {
                    fail("status_page.properties[\(i)]", "\"\(name)\" is listed twice")
                } else {
                    chosen.append(name)
                }
            }
            settings.properties = chosen
        }
        return settings
    }

    /// `48h`, `14d` or a plain number of seconds, within `range` (seconds).
    mutating func retention(_ node: Node?, at path: String, range: ClosedRange<TimeInterval>) -> TimeInterval? {
        guard let node else { return nil }
        let describe = { (s: TimeInterval) in
            s.truncatingRemainder(dividingBy: 86400) == 0 ? "\(Int(s / 86400))d" : "\(Int(s / 3600))h"
        }
        guard case .scalar(let scalar) = node else {
            fail(path, "expected a retention such as 48h or 90d")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        var seconds: Double? = Double(text)
        for (suffix, factor) in [("h", 3600.0), ("d", 86400.0)] where seconds == nil && text.hasSuffix(suffix) {
            seconds = Double(text.dropLast()).map { $0 * factor }
        }
        guard let seconds, seconds.isFinite else {
            fail(path, "expected a retention such as 48h or 90d, got \"\(text)\"")
            return nil
        }
        guard range.contains(seconds) else {
            fail(
                path,
                "must be between \(describe(range.lowerBound)) and \(describe(range.upperBound)), got \"\(text)\""
            )
            return nil
        }
        return seconds
    }
}
