public import Foundation

/// A Gatus-like condition on an HTTP answer, written `SUBJECT OPERATOR VALUE` (see `docs/checks.md`):
///
/// - `[STATUS] == 200`, `[STATUS] < 400`, `[STATUS] in 200-299, 304`
/// - `[BODY] =~ "ready|ok"` (a regular expression searched in the body)
/// - `$.data.status == "ok"`, `$.queue.depth < 100` (the `JSONPath` subset: dotted keys and `[n]`)
/// - `[HEADER:Content-Type] =~ "json"`, `[HEADER:X-Version] == "2"`
/// - `[RESPONSE_TIME] < 500` (total milliseconds)
/// - `[CERT_DAYS_LEFT] > 14` (days until the server certificate's notAfter; https only)
///
/// Operators: `==`, `!=`, `<`, `<=`, `>`, `>=`, `=~` (regular expression), `in` (status codes and ranges).
/// Values: a number, `true`, `false`, `null`, a double-quoted JSON string, or a bare word (a string).
public struct Condition: Sendable, Hashable, CustomStringConvertible {
    public enum Subject: Sendable, Hashable {
        case status, body, responseTime, certificateDaysLeft
        case header(String)
        case json(JSONPath)
    }

    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"
        case matches = "=~", within = "in"
    }

    public enum Value: Sendable, Hashable {
        case number(Double), string(String), bool(Bool), null
        case statusRanges([ClosedRange<Int>])
    }

    public let subject: Subject
    public let op: Operator
    public let value: Value
    /// The condition as written.
    public let description: String

    /// Parses one condition; the error says what is wrong with it.
    public init(_ text: String) throws(ConditionError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        description = trimmed
        guard let space = trimmed.firstIndex(where: \.isWhitespace) else {
            throw ConditionError("expected SUBJECT OPERATOR VALUE, e.g. [STATUS] == 200")
        }
        subject = try Self.subject(String(trimmed[..<space]))
        let rest = trimmed[space...].trimmingCharacters(in: .whitespaces)
        guard let op = Operator.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw ConditionError(
                "expected an operator (\(Operator.allCases.map(\.rawValue).joined(separator: " "))) after the subject"
            )
        }
        self.op = op
        let operand = rest.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
        guard !operand.isEmpty else { throw ConditionError("missing the value after \(op.rawValue)") }
        value = op == .within ? try Self.ranges(operand) : try Self.value(operand)
        try validate()
    }

    private static func subject(_ text: String) throws(ConditionError) -> Subject {
        switch text.uppercased() {
        case "[STATUS]": return .status
        case "[BODY]": return .body
        case "[RESPONSE_TIME]": return .responseTime
        case "[CERT_DAYS_LEFT]": return .certificateDaysLeft
        default: break
        }
        if text.uppercased().hasPrefix("[HEADER:"), text.hasSuffix("]") {
            let name = String(text.dropFirst(8).dropLast())
            guard !name.isEmpty,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else { throw ConditionError("bad header name in \(text)") }
            return .header(name)
        }
        if text.hasPrefix("$") {
            guard let path = JSONPath(text) else {
                throw ConditionError("\(text) is not a supported JSON path ($ then .key and [n] steps)")
            }
            return .json(path)
        }
        throw ConditionError(
            "unknown subject \(text) (expected [STATUS], [BODY], [RESPONSE_TIME], [CERT_DAYS_LEFT], [HEADER:Name] or a $.json.path)"
        )
    }

    private static func value(_ text: String) throws(ConditionError) -> Value {
        if text.hasPrefix("\"") {
            guard let s = try? JSONDecoder().decode(String.self, from: Data(text.utf8)) else {
                throw ConditionError("bad quoted string \(text)")
            }
            return .string(s)
        }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: break
        }
        if let n = Double(text), n.isFinite { return .number(n) }
        return .string(text)
    }

    private static func ranges(_ text: String) throws(ConditionError) -> Value {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                low <= high
            else { throw ConditionError("expected status codes and ranges such as 200-299, 304 after in") }
            ranges.append(low...high)
        }
        return .statusRanges(ranges)
    }

    private func validate() throws(ConditionError) {
        let numeric: Set<Operator> = [.less, .lessOrEqual, .greater, .greaterOrEqual]
        let allowed: Set<Operator>
        switch subject {
        case .status: allowed = numeric.union([.equal, .notEqual, .within])
        case .body: allowed = [.matches]
        case .responseTime, .certificateDaysLeft: allowed = numeric
        case .header: allowed = [.equal, .notEqual, .matches]
        case .json: allowed = numeric.union([.equal, .notEqual, .matches])
        }
        guard allowed.contains(op) else {
            throw ConditionError(
                "\(op.rawValue) cannot be used here (allowed: \(Operator.allCases.filter(allowed.contains).map(\.rawValue).joined(separator: " ")))"
            )
        }
        switch (op, value) {
        case (.within, _): break
        case (.matches, .string(let pattern)):
            do { _ = try Regex(pattern) } catch {
                throw ConditionError("bad regular expression \"\(pattern)\": \(error)")
            }
        case (.matches, _): throw ConditionError("=~ needs a quoted regular expression")
        case (_, .number): break
        case (_, _) where numeric.contains(op): throw ConditionError("\(op.rawValue) needs a number")
        case (_, _) where subject == .status: throw ConditionError("[STATUS] is compared with a number")
        default: break
        }
    }

    /// What a condition reads from one answer.
    public struct Answer: Sendable {
        public var status: Int?
        public var headers: [(name: String, value: String)]
        public var body: String
        public var json: JSONNode?
        public var totalMs: Double
        public var certificateExpiry: Date?
        public var now: Date
    }

    /// nil when the condition holds, else what was seen instead.
    public func failure(in answer: Answer) -> String? {
        switch subject {
        case .status:
            guard let status = answer.status else { return "no status" }
            return holds(.number(Double(status))) ? nil : "saw \(status)"
        case .body:
            return holds(.string(answer.body)) ? nil : "no match in the body (\(Self.excerpt(answer.body)))"
        case .responseTime:
            return holds(.number(answer.totalMs)) ? nil : "took \(Int(answer.totalMs.rounded())) ms"
        case .certificateDaysLeft:
            guard let expiry = answer.certificateExpiry else { return "no certificate (not an https answer)" }
            let days = expiry.timeIntervalSince(answer.now) / 86_400
            return holds(.number(days)) ? nil : "\(Int(days.rounded(.down))) days left"
        case .header(let name):
            guard let seen = answer.headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value else {
                return "no \(name) header"
            }
            return holds(.string(seen)) ? nil : "saw \(Self.excerpt(seen))"
        case .json(let path):
            guard let root = answer.json else { return "the body is not JSON" }
            guard let node = path.select(in: root) else { return "\(path) not found" }
            let seen: Value
            switch node {
            case .null: seen = .null
            case .bool(let b): seen = .bool(b)
            case .number(let n): seen = .number(n)
            case .string(let s): seen = .string(s)
            case .array, .object: return "saw \(node.summary)"
            }
            return holds(seen) ? nil : "saw \(node.summary)"
        }
    }

    private func holds(_ seen: Value) -> Bool {
        switch (op, seen, value) {
        case (.matches, .string(let text), .string(let pattern)):
            guard let regex = try? Regex(pattern) else { return false }
            return text.contains(regex)
        case (.matches, .number(let n), .string(let pattern)):
            guard let regex = try? Regex(pattern) else { return false }
            return JSONNode.format(n).contains(regex)
        case (.within, .number(let n), .statusRanges(let ranges)):
            return ranges.contains { $0.contains(Int(n)) }
        case (.equal, _, _): return Self.same(seen, value)
        case (.notEqual, _, _): return !Self.same(seen, value)
        case (_, .number(let a), .number(let b)):
            switch op {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            default: return false
            }
        default: return false
        }
    }

    /// Equality with a bare number compared as text when the subject is text (a header `== 2`).
    private static func same(_ seen: Value, _ expected: Value) -> Bool {
        switch (seen, expected) {
        case (.string(let s), .number(let n)): s == JSONNode.format(n)
        default: seen == expected
        }
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 60 ? "starts \"\(flat.prefix(60))…\"" : "\"\(flat)\""
    }
}

/// Why a condition's text was refused.
public struct ConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
