import Foundation

/// A parsed JSON document, as a JSON-path condition reads it.
public enum JSONNode: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([String: JSONNode])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONNode].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONNode].self))
        }
    }

    /// The document in `bytes`, nil when they are not JSON.
    public static func parse(_ bytes: [UInt8]) -> JSONNode? {
        try? JSONDecoder().decode(JSONNode.self, from: Data(bytes))
    }

    /// A short rendering for messages: scalars as JSON, containers by kind and size.
    public var summary: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let n): Self.format(n)
        case .string(let s): "\"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\""
        case .array(let a): "an array of \(a.count)"
        case .object(let o): "an object of \(o.count) keys"
        }
    }

    static func format(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }
}

/// The JSONPath subset conditions use: `$` followed by dotted keys and `[n]` array indices, e.g.
/// `$.data.status`, `$.items[0].state`, `$[2]`. Keys are any characters but `.`, `[`, `]` and white space;
/// no wildcards, filters, slices or quoted keys.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public let steps: [Step]
    public let description: String

    /// Parses `text`; nil when it is not in the subset.
    public init?(_ text: String) {
        guard text.hasPrefix("$") else { return nil }
        var steps: [Step] = []
        var rest = Substring(text.dropFirst())
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let key = rest.prefix { $0 != "." && $0 != "[" && $0 != "]" && !$0.isWhitespace }
                guard !key.isEmpty else { return nil }
                steps.append(.key(String(key)))
                rest = rest.dropFirst(key.count)
            } else if first == "[" {
                guard let close = rest.firstIndex(of: "]"),
                    let n = Int(rest[rest.index(after: rest.startIndex)..<close]),
                    n >= 0
                else { return nil }
                steps.append(.index(n))
                rest = rest[rest.index(after: close)...]
            } else {
                return nil
            }
        }
        self.steps = steps
        self.description = text
    }

    /// The node at this path in `root`, nil when a step does not exist.
    public func select(in root: JSONNode) -> JSONNode? {
        var node = root
        for step in steps {
            switch (step, node) {
            case (.key(let key), .object(let object)):
                guard let next = object[key] else { return nil }
                node = next
            case (.index(let index), .array(let array)):
                guard index < array.count else { return nil }
                node = array[index]
            default: return nil
            }
        }
        return node
    }
}
