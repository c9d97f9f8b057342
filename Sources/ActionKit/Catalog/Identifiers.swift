/// The identifiers of the bundle contract, each validated in one place. A value is valid by
/// construction (`init?(_:)` refuses anything else); `isValid` is the one rule that the manifest
/// parser, the trusted-key parser and the agent's routes all use.
public struct Identifier<Rule: IdentifierRule>: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init?(_ text: some StringProtocol) {
        guard Rule.isValid(text) else { return nil }
        rawValue = String(text)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public static func isValid(_ text: some StringProtocol) -> Bool { Rule.isValid(text) }
}

/// The syntax of one kind of ``Identifier``.
public protocol IdentifierRule: Sendable {
    static func isValid(_ text: some StringProtocol) -> Bool
}

/// An action id: `^[a-z][a-z0-9_]{0,63}$` (also a valid OpenAI tool name).
public typealias ActionID = Identifier<ActionIDRule>
/// A bundle id, reverse-DNS: `^[a-z0-9]+(\.[a-z0-9-]+)+$`, at most 128 characters.
public typealias BundleID = Identifier<BundleIDRule>
/// A signing key id: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$` (it names files in the trusted-keys directory).
public typealias KeyID = Identifier<KeyIDRule>

public enum ActionIDRule: IdentifierRule {
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first, isLower(first) else { return false }
        return bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }
}

public enum BundleIDRule: IdentifierRule {
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 128, labels.count >= 2, let first = labels.first else { return false }
        guard !first.isEmpty, first.utf8.allSatisfy({ isLower($0) || isDigit($0) }) else { return false }
        return labels.dropFirst().allSatisfy { label in
            !label.isEmpty && label.utf8.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        }
    }
}

public enum KeyIDRule: IdentifierRule {
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func plain(_ b: UInt8) -> Bool { isLower(b) || isDigit(b) || (b >= 0x41 && b <= 0x5A) }
        return plain(bytes[0]) && bytes.allSatisfy { plain($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }
}

private func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
