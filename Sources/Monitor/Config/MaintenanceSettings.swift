public import Foundation
import Probing
import Yams

/// A scheduled maintenance window (the top-level `maintenance:` list): while it is open, the properties it
/// names (all when none are named) are silenced — probes go on, alerts and remediation are held — and when it
/// closes, a state that changed meanwhile is announced (the ad-hoc silence's `endSilence` path).
///
/// - recurring: `start: "HH:MM"` and `duration` (at most 24h), every day or on `days` (`mon` … `sun`), in
///   `time_zone` (an IANA name such as `Europe/Berlin`, default `UTC`; daylight-saving changes follow
///   Foundation's `TimeZone`);
/// - one-off: `from` and `until` (ISO 8601 with an offset, e.g. `2026-12-01T22:00:00Z`).
public struct MaintenanceWindow: Sendable, Hashable {
    public enum Schedule: Sendable, Hashable {
        /// `weekdays` as `Calendar` numbers them (1 = Sunday … 7 = Saturday); empty means every day.
        case recurring(weekdays: Set<Int>, hour: Int, minute: Int, duration: Duration, timeZone: TimeZone)
        case once(from: Date, until: Date)
    }

    public var name: String
    /// Property names; empty means every property.
    public var properties: [String]
    public var schedule: Schedule

    public init(name: String, properties: [String] = [], schedule: Schedule) {
        self.name = name
        self.properties = properties
        self.schedule = schedule
    }

    public func covers(_ property: String) -> Bool { properties.isEmpty || properties.contains(property) }

    /// The end of the occurrence open at `now`, nil when the window is closed.
    public func openUntil(at now: Date) -> Date? {
        switch schedule {
        case .once(let from, let until):
            return from <= now && now < until ? until : nil
        case .recurring(let weekdays, let hour, let minute, let duration, let timeZone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            // An occurrence that started yesterday may still be open (a window across midnight).
            for daysBack in [0, 1] {
                guard let day = calendar.date(byAdding: .day, value: -daysBack, to: now),
                    weekdays.isEmpty || weekdays.contains(calendar.component(.weekday, from: day)),
                    let start = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day)
                else { continue }
                let end = start.addingTimeInterval(duration.timeInterval)
                if start <= now && now < end { return end }
            }
            return nil
        }
    }
}

extension ConfigReader {
    static let weekdays = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]

    /// The top-level `maintenance:` list; `properties` are the names a window may refer to.
    mutating func readMaintenance(_ node: Node?, properties: Set<String>) -> [MaintenanceWindow] {
        guard let node else { return [] }
        guard case .sequence(let list) = node else {
            fail("maintenance", "expected a list of windows")
            return []
        }
        let keys: Set<String> = ["name", "properties", "days", "start", "duration", "time_zone", "from", "until"]
        var windows: [MaintenanceWindow] = []
        for (index, item) in list.enumerated() {
            let path = "maintenance[\(index)]"
            guard let entry = mapping(item, at: path, allowed: keys) else { continue }
            let errorCount = errors.count
            let name = string(entry["name"], at: "\(path).name") ?? "maintenance[\(index)]"
            var names: [String] = []
            if let node = entry["properties"] {
                let items: [Node] = if case .sequence(let list) = node { Array(list) } else { [node] }
                for (i, item) in items.enumerated() {
                    guard let property = string(item, at: "\(path).properties[\(i)]") else { continue }
                    if properties.contains(property) {
                        names.append(property)
                    } else {
                        fail("\(path).properties[\(i)]", "no property named \"\(property)\"")
                    }
                }
            }
            let schedule: MaintenanceWindow.Schedule?
            if entry["from"] != nil || entry["until"] != nil {
                for key in ["days", "start", "duration", "time_zone"] where entry[key] != nil {
                    fail("\(path).\(key)", "a one-off window (from/until) has no \(key)")
                }
                schedule = readOnce(entry, at: path)
            } else {
                schedule = readRecurring(entry, at: path)
            }
            if let schedule, errors.count == errorCount {
                windows.append(MaintenanceWindow(name: name, properties: names, schedule: schedule))
            }
        }
        return windows
    }

    private mutating func readOnce(_ entry: [String: Node], at path: String) -> MaintenanceWindow.Schedule? {
        func date(_ key: String) -> Date? {
            guard let text = string(entry[key], at: "\(path).\(key)") else {
                if entry[key] == nil { fail("\(path).\(key)", "required for a one-off window") }
                return nil
            }
            guard let date = ISO8601DateFormatter().date(from: text) else {
                fail("\(path).\(key)", "expected an ISO 8601 time with an offset such as 2026-12-01T22:00:00Z")
                return nil
            }
            return date
        }
        guard let from = date("from"), let until = date("until") else { return nil }
        guard from < until else {
            fail("\(path).until", "must be after from")
            return nil
        }
        return .once(from: from, until: until)
    }

    private mutating func readRecurring(_ entry: [String: Node], at path: String) -> MaintenanceWindow.Schedule? {
        var timeZone = TimeZone(identifier: "UTC")!
        if let id = string(entry["time_zone"], at: "\(path).time_zone") {
            if let zone = TimeZone(identifier: id) {
                timeZone = zone
            } else {
                fail("\(path).time_zone", "unknown time zone \"\(id)\" (an IANA name such as Europe/Berlin)")
            }
        }
        var weekdays: Set<Int> = []
        if let node = entry["days"] {
            let items: [Node] = if case .sequence(let list) = node { Array(list) } else { [node] }
            for (i, item) in items.enumerated() {
                guard let day = string(item, at: "\(path).days[\(i)]") else { continue }
                if let n = Self.weekdays[String(day.lowercased().prefix(3))], day.count >= 3 {
                    weekdays.insert(n)
                } else {
                    fail("\(path).days[\(i)]", "expected mon, tue, wed, thu, fri, sat or sun, got \"\(day)\"")
                }
            }
        }
        let duration = duration(entry["duration"], at: "\(path).duration")
        if entry["duration"] == nil { fail("\(path).duration", "required (e.g. 1h), or give from/until") }
        guard let start = string(entry["start"], at: "\(path).start") else {
            if entry["start"] == nil { fail("\(path).start", "required (HH:MM), or give from/until") }
            return nil
        }
        let parts = start.split(separator: ":").map { Int($0) }
        guard parts.count == 2, let hour = parts[0], let minute = parts[1], (0..<24).contains(hour),
            (0..<60).contains(minute)
        else {
            fail("\(path).start", "expected HH:MM such as 02:30, got \"\(start)\"")
            return nil
        }
        guard let duration else { return nil }
        return .recurring(weekdays: weekdays, hour: hour, minute: minute, duration: duration, timeZone: timeZone)
    }
}
