/// A secret from the environment. Its description is always `<redacted>`, so it cannot leak through
/// string interpolation, logs, errors or the status API; read `value` only where it is sent.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
