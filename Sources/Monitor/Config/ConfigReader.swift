import Foundation
import Yams

/// The typed reads every key of the monitor config goes through: each failure is recorded with the file and
/// the key path, and reading goes on, so one pass reports every error.
struct ConfigReader {
    let file: String
    var errors: [ConfigError] = []
    /// Where `*_env` keys find their values.
    var environment: [String: String] = [:]

    init(file: String) { self.file = file }

    mutating func fail(_ path: String, _ problem: String) {
        errors.append(ConfigError(file: file, path: path, problem: problem))
    }

    /// The entries of a mapping, rejecting unknown and duplicate keys.
    mutating func mapping(_ node: Node, at path: String, allowed: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            fail(path, "expected a mapping")
            return nil
        }
        var out: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else {
                fail(path, "keys must be strings")
                continue
            }
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.contains(key) {
                fail(keyPath, "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            if out[key] != nil {
                fail(keyPath, "duplicate key")
                continue
            }
            out[key] = value
        }
        return out
    }

    mutating func string(_ node: Node?, at path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, node.tag.description != Tag.Name.null.rawValue else {
            fail(path, "expected a string")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node?, at path: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            fail(path, "expected an integer")
            return nil
        }
        guard range.contains(value) else {
            fail(path, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node?, at path: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            fail(path, "expected true or false")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(path, "expected true or false, got \"\(scalar.string)\"")
            return nil
        }
    }

    /// `500ms`, `10s`, `5m`, `1h` or a plain number of seconds; `allowZero` for durations that `0` disables.
    mutating func duration(_ node: Node?, at path: String, allowZero: Bool = false) -> Duration? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            fail(path, "expected a duration such as 10s, 500ms or 5m")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var seconds: Double?
        if let plain = Double(text) {
            seconds = plain
        } else {
            for (suffix, factor) in units where text.hasSuffix(suffix) {
                if let number = Double(text.dropLast(suffix.count)) {
                    seconds = number * factor
                    break
                }
            }
        }
        guard let seconds, seconds.isFinite else {
            fail(path, "expected a duration such as 10s, 500ms or 5m, got \"\(text)\"")
            return nil
        }
        guard seconds > 0 || (allowZero && seconds == 0) else {
            fail(path, "must be greater than zero")
            return nil
        }
        guard seconds <= 86_400 else {
            fail(path, "must be at most 24h")
            return nil
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// A plain number (integer or decimal) within `range`.
    mutating func number(_ node: Node?, at path: String, range: ClosedRange<Double>) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, scalar.style == .plain, let value = Double(scalar.string),
            range.contains(value)
        else {
            fail(path, "must be a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }
}
