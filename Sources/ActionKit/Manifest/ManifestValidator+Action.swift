/// One action: its fields, and the fixed-argv rules (absolute executable, no templating of any kind).
extension ManifestValidator {
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
        guard
            let elements = boundedArray(
                value,
                at: path,
                maximum: ManifestParser.maxArgvCount,
                empty: "must not be empty (the first element is the executable)",
                tooMany: "must have at most \(ManifestParser.maxArgvCount) elements"
            )
        else { return nil }
        guard
            let result = strings(
                elements,
                at: path,
                { (validator, text, elementPath, index) in validator.argument(text, at: elementPath, index: index) }
            )
        else { return nil }
        var ok = true
        for index in result.indices {
            if let problem = InterpreterRule.problem(argv: result, index: index) {
                fail(child(path, index), problem)
                ok = false
            }
        }
        return ok ? result : nil
    }

    /// One argv element: non-empty printable text without placeholders; the first a normalized absolute
    /// path that no interpreter rule refuses.
    mutating func argument(_ text: String, at elementPath: String, index: Int) -> Bool {
        guard !text.isEmpty else {
            fail(elementPath, "must not be empty")
            return false
        }
        guard printableASCII(text, at: elementPath, what: "argument", maxLength: 1024) else { return false }
        if let placeholder = placeholderSyntax(in: text) {
            fail(
                elementPath,
                "must be a fixed string; placeholder syntax \(placeholder) is not allowed (got \(ManifestParser.quoted(text)))"
            )
            return false
        }
        guard index == 0 else { return true }
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        guard text.hasPrefix("/"), text.count > 1, !text.hasSuffix("/") else {
            fail(elementPath, "must be an absolute path (got \(ManifestParser.quoted(text)))")
            return false
        }
        if components.dropFirst().contains(where: { $0 == "." || $0 == ".." || $0.isEmpty }) {
            fail(elementPath, "must be a normalized absolute path (got \(ManifestParser.quoted(text)))")
            return false
        }
        if let problem = InterpreterRule.problem(executable: text) {
            fail(elementPath, problem)
            return false
        }
        return true
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
}
