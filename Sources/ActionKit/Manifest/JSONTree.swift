/// A parsed JSON document that keeps what a validator needs and `JSONSerialization` loses:
/// the order of object keys, duplicate keys, and numbers as written (so `1.0` is not an integer
/// and `true` is never the number 1).
///
/// Used for signed files, where two readers must never see two different documents.
package indirect enum JSONTree: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text exactly as written.
    case number(String)
    case string(String)
    case array([JSONTree])
    /// Members in document order; duplicates are rejected by the parser.
    case object([(key: String, value: JSONTree)])

    package static func == (lhs: JSONTree, rhs: JSONTree) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let v): hasher.combine(v)
        case .number(let v): hasher.combine(v)
        case .string(let v): hasher.combine(v)
        case .array(let v): hasher.combine(v)
        case .object(let members):
            for member in members {
                hasher.combine(member.key)
                hasher.combine(member.value)
            }
        }
    }

    /// A short name of the value's JSON type, for error messages.
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The value as an `Int` when it is written as an integer (no fraction, no exponent) that fits.
    package var integer: Int? {
        guard case .number(let text) = self, !text.contains(where: { ".eE".contains($0) }) else { return nil }
        return Int(text)
    }
}
