/// Text from a request made safe to store or echo: C0 and C1 control characters, DEL, and the
/// bidirectional controls (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) are removed, so that an
/// audit line or an error message reads the same in a terminal as it does in a JSON parser.
public enum AuditText {
    public static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isRemoved) else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.lazy.filter { !isRemoved($0) })
        return String(scalars)
    }

    public static func clean(_ text: String?) -> String? { text.map(clean) }

    static func isRemoved(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
