/// An action's run limits (cooldown, runs per window) and its target list.
extension ManifestValidator {
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
        return strings(elements, at: path) { (validator, text, elementPath, _) in
            guard validator.isToken(text) else {
                validator.fail(
                    elementPath,
                    "must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ (got \(ManifestParser.quoted(text)))"
                )
                return false
            }
            return true
        }
    }
}
