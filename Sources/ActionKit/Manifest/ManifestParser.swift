/// Everything wrong with one manifest: each issue names the JSON path and the rule broken.
///
/// `description` is one line per issue, prefixed by the file, e.g.
/// `bundles/docker/manifest.json: $.actions[2].argv[0]: must be an absolute path (got "docker")`.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        /// A JSONPath such as `$.actions[2].argv[0]`.
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// The file the manifest was read from, as given to the parser.
    public var file: String
    /// Every issue found, in document order. Never empty.
    public var issues: [Issue]

    public var description: String {
        issues.map { "\(file): \($0)" }.joined(separator: "\n")
    }
}

/// Parses and validates manifest v1 bytes. Collects every issue, not only the first.
public enum ManifestParser {
    /// Manifests larger than this are refused before parsing.
    public static let maxBytes = 256 * 1024
    public static let maxActions = 256
    public static let maxArgvCount = 64
    public static let maxDescriptionLength = 300
    public static let timeoutRange = 1...3600
    public static let killGraceRange = 0...60
    public static let maxOutputBytesRange = 1...1_048_576
    /// Cooldowns and windows: at most one day.
    public static let periodRange = 1...86_400
    public static let maxRunsRange = 1...1000

    /// Parses `bytes` read from `file` (used only in messages).
    public static func parse(_ bytes: [UInt8], file: String) throws(ManifestError) -> Manifest {
        guard bytes.count <= maxBytes else {
            throw ManifestError(
                file: file,
                issues: [.init(path: "$", message: "manifest is \(bytes.count) bytes, over the \(maxBytes)-byte limit")]
            )
        }
        let tree: JSONTree
        do {
            tree = try JSONTreeParser.parse(bytes)
        } catch {
            throw ManifestError(file: file, issues: [.init(path: "$", message: error.description)])
        }
        var validator = ManifestValidator()
        let manifest = validator.manifest(tree)
        if let manifest, validator.issues.isEmpty { return manifest }
        if validator.issues.isEmpty {
            validator.issues.append(.init(path: "$", message: "not a valid manifest"))
        }
        throw ManifestError(file: file, issues: validator.issues)
    }

    /// Why `text` cannot be an action id (a valid OpenAI tool name), or nil when it can (``ActionID``).
    public static func actionIDProblem(_ text: String) -> String? {
        guard ActionID.isValid(text) else {
            return "must match ^[a-z][a-z0-9_]{0,63}$ (a valid tool name) (got \(quoted(text)))"
        }
        return nil
    }

    /// Reverse-DNS bundle id: `^[a-z0-9]+(\.[a-z0-9-]+)+$`, at most 128 characters (``BundleID``).
    public static func isValidBundleID(_ text: String) -> Bool { BundleID.isValid(text) }

    static func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// A string as it appears in a message: JSON-style quotes, non-printable characters as `\u{…}`.
    static func quoted(_ text: String, limit: Int = 80) -> String {
        "\"" + printable(text, limit: limit) + "\""
    }

    /// Text from outside as it may appear in a message or an answer: printable ASCII, anything
    /// else as `\u{…}` (no control or bidi character survives), at most `limit` characters.
    package static func printable(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for (n, scalar) in text.unicodeScalars.enumerated() {
            if n >= limit {
                out += "…"
                break
            }
            if scalar.value >= 0x20 && scalar.value < 0x7F {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return out
    }
}
