/// The one incident id: the store's row id, carried as this type from the store through the service, the
/// responder, the remediation journal and the Discord texts. Encoded as a bare JSON number; printed as the
/// number.
public struct IncidentID: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public var rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { self.rawValue = value }

    public var description: String { String(rawValue) }

    public static func < (a: IncidentID, b: IncidentID) -> Bool { a.rawValue < b.rawValue }

    /// A number, or (journal entries written before this type existed) the number as a string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            rawValue = number
        } else if let text = try? container.decode(String.self), let number = Int64(text) {
            rawValue = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an incident id")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
