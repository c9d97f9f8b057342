/// Walks a parsed manifest, recording every issue with its path: the JSON primitives (objects with
/// known keys, strings, bounded integers and arrays, printable text). The walk itself is in
/// `ManifestValidator+Bundle.swift` (top level, bundle, artifacts, action list), the action rules in
/// `ManifestValidator+Action.swift` (fields, fixed argv) and `ManifestValidator+Limits.swift` (limits, targets).
struct ManifestValidator {
    var issues: [ManifestError.Issue] = []

    mutating func fail(_ path: String, _ message: String) {
        issues.append(.init(path: path, message: message))
    }

    /// The members of an object, after reporting unknown and missing keys.
    mutating func object(
        _ value: JSONTree,
        at path: String,
        required: [String],
        optional: [String] = []
    ) -> [String: JSONTree]? {
        guard case .object(let members) = value else {
            fail(path, "must be an object (got \(value.typeName))")
            return nil
        }
        var result: [String: JSONTree] = [:]
        for member in members {
            if required.contains(member.key) || optional.contains(member.key) {
                result[member.key] = member.value
            } else {
                fail(child(path, member.key), "unknown key")
            }
        }
        for key in required where result[key] == nil {
            fail(child(path, key), "required key is missing")
        }
        return result
    }

    func child(_ path: String, _ key: String) -> String { "\(path).\(key)" }
    func child(_ path: String, _ index: Int) -> String { "\(path)[\(index)]" }

    mutating func string(_ value: JSONTree?, at path: String) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else {
            fail(path, "must be a string (got \(value.typeName))")
            return nil
        }
        return text
    }

    mutating func integer(_ value: JSONTree?, at path: String, range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        guard case .number(let text) = value else {
            fail(path, "must be an integer (got \(value.typeName))")
            return nil
        }
        guard let number = value.integer else {
            fail(path, "must be an integer (got \(text))")
            return nil
        }
        guard range.contains(number) else {
            let bounds =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            fail(path, "must be \(bounds) (got \(number))")
            return nil
        }
        return number
    }

    mutating func array(_ value: JSONTree?, at path: String) -> [JSONTree]? {
        guard let value else { return nil }
        guard case .array(let elements) = value else {
            fail(path, "must be an array (got \(value.typeName))")
            return nil
        }
        return elements
    }

    /// An array of 1…`maximum` elements; `empty` and `tooMany` (to which ` (got N)` is added) say why not.
    mutating func boundedArray(
        _ value: JSONTree,
        at path: String,
        maximum: Int,
        empty: String,
        tooMany: String
    ) -> [JSONTree]? {
        guard let elements = array(value, at: path) else { return nil }
        guard !elements.isEmpty else {
            fail(path, empty)
            return nil
        }
        guard elements.count <= maximum else {
            fail(path, "\(tooMany) (got \(elements.count))")
            return nil
        }
        return elements
    }

    /// Each element as a string that `accept` (given the validator, the text, its path and index) lets
    /// through; every element is checked, so all its issues are reported. Nil when any was refused.
    mutating func strings(
        _ elements: [JSONTree],
        at path: String,
        _ accept: (inout ManifestValidator, String, String, Int) -> Bool
    ) -> [String]? {
        var result: [String] = []
        var ok = true
        for (index, element) in elements.enumerated() {
            let elementPath = child(path, index)
            guard let text = string(element, at: elementPath), accept(&self, text, elementPath, index) else {
                ok = false
                continue
            }
            result.append(text)
        }
        return ok ? result : nil
    }

    /// Printable ASCII (0x20...0x7E): no control, zero-width, bidi or other non-ASCII characters.
    mutating func printableASCII(_ text: String, at path: String, what: String, maxLength: Int) -> Bool {
        if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value > 0x7E }) {
            let kind = describe(bad)
            fail(path, "\(what) must be printable ASCII; found \(kind) U+\(hex(bad.value))")
            return false
        }
        guard text.contains(where: { $0 != " " }) else {
            fail(path, "\(what) must not be empty or only spaces")
            return false
        }
        guard text.utf8.count <= maxLength else {
            fail(path, "\(what) must be at most \(maxLength) characters (got \(text.utf8.count))")
            return false
        }
        return true
    }

    func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F: "a control character"
        case 0x200B...0x200F, 0x2060...0x2064, 0xFEFF: "a zero-width or invisible character"
        case 0x202A...0x202E, 0x2066...0x2069, 0x061C: "a bidirectional control character"
        default: "a non-ASCII character"
        }
    }
}
