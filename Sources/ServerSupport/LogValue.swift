import Logging

/// How a metadata value is written: plain text for logfmt, typed JSON for JSON lines.
enum LogValue {
    /// Plain text: strings as they are, arrays and dictionaries as comma-separated items.
    static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let items): items.map(text).joined(separator: ",")
        case .dictionary(let entries):
            entries.keys.sorted().map { "\($0)=\(text(entries[$0]!))" }.joined(separator: ",")
        }
    }

    /// A JSON value: numbers and booleans typed when they were logged as such.
    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return jsonString(string)
        case .stringConvertible(let convertible):
            switch convertible {
            case let bool as Bool: return bool ? "true" : "false"
            case let integer as any BinaryInteger: return "\(integer)"
            case let number as Double where number.isFinite: return "\(number)"
            case let number as Float where number.isFinite: return "\(number)"
            default: return jsonString(convertible.description)
            }
        case .array(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .dictionary(let entries):
            return "{"
                + entries.keys.sorted().map { "\(jsonString($0)):\(json(entries[$0]!))" }
                .joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (RFC 8259 escapes; control characters as `\u00XX`).
    static func jsonString(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += hexEscape(scalar)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A logfmt value: bare when it is printable ASCII without space, quote, `=` or backslash; quoted and
    /// escaped otherwise (the empty string is `""`).
    static func logfmt(_ value: String) -> String {
        let bare =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value < 0x7f && $0 != "\"" && $0 != "=" && $0 != "\\"
            }
        return bare ? value : jsonString(value)
    }

    /// A logfmt key: the dotted metadata keys are already bare; anything else is made so.
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(
            String.UnicodeScalarView(
                key.unicodeScalars.map { $0.value > 0x20 && $0.value < 0x7f && $0 != "=" && $0 != "\"" ? $0 : "_" }
            )
        )
        return cleaned.isEmpty ? "_" : cleaned
    }

    private static func hexEscape(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
