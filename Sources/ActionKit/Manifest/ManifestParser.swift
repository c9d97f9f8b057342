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

/// Walks a parsed manifest, recording every issue with its path.
private struct ManifestValidator {
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

    mutating func manifest(_ tree: JSONTree) -> Manifest? {
        guard
            let top = object(tree, at: "$", required: ["manifest_version", "bundle", "actions"])
        else { return nil }
        let version = integer(top["manifest_version"], at: "$.manifest_version", range: 0...Int.max)
        if let version, version != 1 {
            fail("$.manifest_version", "must be 1 (got \(version))")
        }
        let bundle = top["bundle"].flatMap { bundleInfo($0, at: "$.bundle") }
        let actions = top["actions"].flatMap { actionList($0, at: "$.actions") }
        guard version == 1, let bundle, let actions else { return nil }
        return Manifest(manifestVersion: 1, bundle: bundle, actions: actions)
    }

    mutating func bundleInfo(_ value: JSONTree, at path: String) -> BundleInfo? {
        guard
            let fields = object(value, at: path, required: ["id", "version", "serial", "abi", "artifacts"])
        else { return nil }
        var id = string(fields["id"], at: child(path, "id"))
        if let text = id, !ManifestParser.isValidBundleID(text) {
            fail(
                child(path, "id"),
                "must be a reverse-DNS id matching ^[a-z0-9]+(\\.[a-z0-9-]+)+$ (got \(ManifestParser.quoted(text)))"
            )
            id = nil
        }
        var version = string(fields["version"], at: child(path, "version"))
        if let text = version, !printableASCII(text, at: child(path, "version"), what: "version", maxLength: 64) {
            version = nil
        }
        let serial = integer(fields["serial"], at: child(path, "serial"), range: 1...Int.max)
        let abi = fields["abi"].flatMap { abiVersion($0, at: child(path, "abi")) }
        let artifacts = fields["artifacts"].flatMap { artifactMap($0, at: child(path, "artifacts")) }
        guard let id, let version, let serial, let abi, let artifacts else { return nil }
        return BundleInfo(id: id, version: version, serial: serial, abi: abi, artifacts: artifacts)
    }

    mutating func abiVersion(_ value: JSONTree, at path: String) -> ABIVersion? {
        guard let fields = object(value, at: path, required: ["major", "minor"]) else { return nil }
        let major = integer(fields["major"], at: child(path, "major"), range: 0...Int(UInt32.max))
        let minor = integer(fields["minor"], at: child(path, "minor"), range: 0...Int(UInt32.max))
        guard let major, let minor else { return nil }
        return ABIVersion(major: major, minor: minor)
    }

    mutating func artifactMap(_ value: JSONTree, at path: String) -> [String: Artifact]? {
        guard case .object(let members) = value else {
            fail(path, "must be an object (got \(value.typeName))")
            return nil
        }
        guard !members.isEmpty else {
            fail(path, "must name at least one platform")
            return nil
        }
        var result: [String: Artifact] = [:]
        var ok = true
        for member in members {
            let memberPath = child(path, member.key)
            let platformOK =
                !member.key.isEmpty && member.key.utf8.count <= 64
                && member.key.utf8.allSatisfy {
                    ManifestParser.isLower($0) || ManifestParser.isDigit($0) || $0 == UInt8(ascii: "-")
                        || $0 == UInt8(ascii: "_")
                }
            if !platformOK {
                fail(memberPath, "platform key must match ^[a-z0-9_-]{1,64}$")
                ok = false
            }
            guard let fields = object(member.value, at: memberPath, required: ["file", "sha256"]) else {
                ok = false
                continue
            }
            let file = string(fields["file"], at: child(memberPath, "file"))
            if let file, !isPlainFileName(file) {
                fail(
                    child(memberPath, "file"),
                    "must be a plain file name inside the bundle directory (got \(ManifestParser.quoted(file)))"
                )
                ok = false
            }
            let digest = string(fields["sha256"], at: child(memberPath, "sha256"))
            if let digest, !(digest.utf8.count == 64 && digest.utf8.allSatisfy(isLowerHex)) {
                fail(
                    child(memberPath, "sha256"),
                    "must be 64 lowercase hex digits (got \(ManifestParser.quoted(digest)))"
                )
                ok = false
            }
            if let file, let digest, platformOK {
                result[member.key] = Artifact(file: file, sha256: digest)
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }

    func isLowerHex(_ b: UInt8) -> Bool {
        ManifestParser.isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }

    func isPlainFileName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix("."),
            name != "manifest.json", name != "manifest.sig"
        else { return false }
        return name.utf8.allSatisfy {
            ManifestParser.isLower($0) || ManifestParser.isDigit($0) || ($0 >= 0x41 && $0 <= 0x5A)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    mutating func actionList(_ value: JSONTree, at path: String) -> [ActionSpec]? {
        guard let elements = array(value, at: path) else { return nil }
        guard !elements.isEmpty else {
            fail(path, "must declare at least one action")
            return nil
        }
        guard elements.count <= ManifestParser.maxActions else {
            fail(path, "must declare at most \(ManifestParser.maxActions) actions (got \(elements.count))")
            return nil
        }
        var actions: [ActionSpec] = []
        var firstPathOfID: [String: String] = [:]
        var ok = true
        for (index, element) in elements.enumerated() {
            let actionPath = child(path, index)
            if case .object(let members) = element,
                let idValue = members.first(where: { $0.key == "id" })?.value,
                case .string(let id) = idValue
            {
                if let earlier = firstPathOfID[id] {
                    fail(
                        child(actionPath, "id"),
                        "duplicate action id \(ManifestParser.quoted(id)) (first at \(earlier))"
                    )
                    ok = false
                } else {
                    firstPathOfID[id] = actionPath
                }
            }
            if let action = actionSpec(element, at: actionPath) {
                actions.append(action)
            } else {
                ok = false
            }
        }
        return ok ? actions : nil
    }

    mutating func actionSpec(_ value: JSONTree, at path: String) -> ActionSpec? {
        let required = [
            "id", "title", "description", "kind", "argv", "timeout_s", "kill_grace_s", "lock", "limits", "targets",
            "rank", "max_output_bytes",
        ]
        guard let fields = object(value, at: path, required: required, optional: ["preflight_argv"]) else {
            return nil
        }
        var id = string(fields["id"], at: child(path, "id"))
        if let text = id, let problem = ManifestParser.actionIDProblem(text) {
            fail(child(path, "id"), problem)
            id = nil
        }
        var title = string(fields["title"], at: child(path, "title"))
        if let text = title, !printableASCII(text, at: child(path, "title"), what: "title", maxLength: 100) {
            title = nil
        }
        var description = string(fields["description"], at: child(path, "description"))
        if let text = description,
            !printableASCII(
                text,
                at: child(path, "description"),
                what: "description",
                maxLength: ManifestParser.maxDescriptionLength
            )
        {
            description = nil
        }
        var kind: ActionKind?
        if let text = string(fields["kind"], at: child(path, "kind")) {
            kind = ActionKind(rawValue: text)
            if kind == nil {
                fail(
                    child(path, "kind"),
                    "must be \"diagnostic\" or \"remediation\" (got \(ManifestParser.quoted(text)))"
                )
            }
        }
        let argv = fields["argv"].flatMap { commandLine($0, at: child(path, "argv")) }
        var preflight: [String]?
        var preflightOK = true
        if let value = fields["preflight_argv"] {
            preflight = commandLine(value, at: child(path, "preflight_argv"))
            preflightOK = preflight != nil
        }
        let timeout = integer(fields["timeout_s"], at: child(path, "timeout_s"), range: ManifestParser.timeoutRange)
        let grace = integer(
            fields["kill_grace_s"],
            at: child(path, "kill_grace_s"),
            range: ManifestParser.killGraceRange
        )
        var lock = string(fields["lock"], at: child(path, "lock"))
        if let text = lock, !isToken(text) {
            fail(
                child(path, "lock"),
                "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (got \(ManifestParser.quoted(text)))"
            )
            lock = nil
        }
        let limits = fields["limits"].flatMap { actionLimits($0, at: child(path, "limits")) }
        let targets = fields["targets"].flatMap { targetList($0, at: child(path, "targets")) }
        let rank = integer(fields["rank"], at: child(path, "rank"), range: 0...1_000_000)
        let maxOutput = integer(
            fields["max_output_bytes"],
            at: child(path, "max_output_bytes"),
            range: ManifestParser.maxOutputBytesRange
        )
        guard let id, let title, let description, let kind, let argv, preflightOK, let timeout, let grace, let lock,
            let limits, let targets, let rank, let maxOutput
        else { return nil }
        return ActionSpec(
            id: id,
            title: title,
            description: description,
            kind: kind,
            argv: argv,
            preflightArgv: preflight,
            timeoutS: timeout,
            killGraceS: grace,
            lock: lock,
            limits: limits,
            targets: targets,
            rank: rank,
            maxOutputBytes: maxOutput
        )
    }

    func isToken(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func plain(_ b: UInt8) -> Bool {
            ManifestParser.isLower(b) || ManifestParser.isDigit(b) || (b >= 0x41 && b <= 0x5A)
        }
        return plain(bytes[0])
            && bytes.allSatisfy {
                plain($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
            }
    }

    /// A fixed argv: absolute executable first, fixed printable strings, no templating of any kind.
    mutating func commandLine(_ value: JSONTree, at path: String) -> [String]? {
        guard let elements = array(value, at: path) else { return nil }
        guard !elements.isEmpty else {
            fail(path, "must not be empty (the first element is the executable)")
            return nil
        }
        guard elements.count <= ManifestParser.maxArgvCount else {
            fail(path, "must have at most \(ManifestParser.maxArgvCount) elements (got \(elements.count))")
            return nil
        }
        var result: [String] = []
        var ok = true
        for (index, element) in elements.enumerated() {
            let elementPath = child(path, index)
            guard let text = string(element, at: elementPath) else {
                ok = false
                continue
            }
            guard !text.isEmpty else {
                fail(elementPath, "must not be empty")
                ok = false
                continue
            }
            guard printableASCII(text, at: elementPath, what: "argument", maxLength: 1024) else {
                ok = false
                continue
            }
            if let placeholder = placeholderSyntax(in: text) {
                fail(
                    elementPath,
                    "must be a fixed string; placeholder syntax \(placeholder) is not allowed (got \(ManifestParser.quoted(text)))"
                )
                ok = false
                continue
            }
            if index == 0 {
                let components = text.split(separator: "/", omittingEmptySubsequences: false)
                guard text.hasPrefix("/"), text.count > 1, !text.hasSuffix("/") else {
                    fail(elementPath, "must be an absolute path (got \(ManifestParser.quoted(text)))")
                    ok = false
                    continue
                }
                if components.dropFirst().contains(where: { $0 == "." || $0 == ".." || $0.isEmpty }) {
                    fail(elementPath, "must be a normalized absolute path (got \(ManifestParser.quoted(text)))")
                    ok = false
                    continue
                }
                if let problem = InterpreterRule.problem(executable: text) {
                    fail(elementPath, problem)
                    ok = false
                    continue
                }
            }
            result.append(text)
        }
        if ok {
            for index in result.indices {
                if let problem = InterpreterRule.problem(argv: result, index: index) {
                    fail(child(path, index), problem)
                    ok = false
                }
            }
        }
        return ok ? result : nil
    }

    /// The templating syntax found in an argument, if any: `{…}`, `$VAR`, `%s`, `<name>`, backticks.
    func placeholderSyntax(in text: String) -> String? {
        for (character, name) in [("{", "'{'"), ("}", "'}'"), ("$", "'$'"), ("%", "'%'"), ("`", "'`'")]
        where text.contains(character) {
            return name
        }
        if let open = text.firstIndex(of: "<"), text[open...].contains(">") {
            return "'<…>'"
        }
        return nil
    }

    mutating func actionLimits(_ value: JSONTree, at path: String) -> ActionLimits? {
        guard let fields = object(value, at: path, required: [], optional: ["cooldown_s", "max_runs", "window_s"])
        else { return nil }
        let cooldown = integer(fields["cooldown_s"], at: child(path, "cooldown_s"), range: ManifestParser.periodRange)
        let maxRuns = integer(fields["max_runs"], at: child(path, "max_runs"), range: ManifestParser.maxRunsRange)
        let window = integer(fields["window_s"], at: child(path, "window_s"), range: ManifestParser.periodRange)
        let badValue =
            (fields["cooldown_s"] != nil && cooldown == nil) || (fields["max_runs"] != nil && maxRuns == nil)
            || (fields["window_s"] != nil && window == nil)
        if badValue { return nil }
        if (maxRuns == nil) != (window == nil) {
            fail(path, "max_runs and window_s must be given together")
            return nil
        }
        if cooldown == nil && maxRuns == nil {
            fail(path, "must set cooldown_s, or max_runs with window_s")
            return nil
        }
        return ActionLimits(cooldownS: cooldown, maxRuns: maxRuns, windowS: window)
    }

    mutating func targetList(_ value: JSONTree, at path: String) -> [String]? {
        guard let elements = array(value, at: path) else { return nil }
        guard !elements.isEmpty else {
            fail(path, "must name at least one service")
            return nil
        }
        var result: [String] = []
        var ok = true
        for (index, element) in elements.enumerated() {
            let elementPath = child(path, index)
            guard let text = string(element, at: elementPath) else {
                ok = false
                continue
            }
            guard isToken(text) else {
                fail(elementPath, "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (got \(ManifestParser.quoted(text)))")
                ok = false
                continue
            }
            result.append(text)
        }
        return ok ? result : nil
    }
}
