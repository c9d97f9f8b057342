/// What a trusted key may sign: bundle ids (`scopes`) and action ids (`actions`).
///
/// An action id listed by a key (exactly or by a prefix pattern) *belongs* to that key: only
/// bundles signed by a key that lists it may declare it. A key without `actions` may declare only
/// ids that no other trusted key lists. So a key scoped to another bundle can neither take nor
/// shadow an action of a bundle whose key lists its ids, whatever the directory order.
extension TrustedKey {
    /// Whether `pattern` matches `text`: `*`, an exact value, or a prefix ending in `*`.
    static func pattern(_ pattern: String, matches text: String) -> Bool {
        if pattern.hasSuffix("*") { return text.hasPrefix(pattern.dropLast()) }
        return pattern == text
    }

    /// Whether this key lists `actionID` in its `actions`.
    public func lists(actionID: String) -> Bool {
        actions?.contains { Self.pattern($0, matches: actionID) } ?? false
    }

    /// Why this key may not sign a bundle declaring `actionID`, or nil when it may. `keys` are all
    /// trusted keys: an id another key lists belongs to that key.
    public func refusal(actionID: String, among keys: TrustedKeyStore) -> String? {
        if let actions, !lists(actionID: actionID) {
            return "key \"\(keyID)\" may declare only actions [\(actions.joined(separator: ", "))], not \"\(actionID)\""
        }
        if actions == nil {
            let owners = keys.keys.values.filter { $0.keyID != keyID && $0.lists(actionID: actionID) }
            if !owners.isEmpty {
                let names = owners.map { "\"\($0.keyID)\"" }.sorted().joined(separator: ", ")
                return "action \"\(actionID)\" belongs to key \(names), not to key \"\(keyID)\""
            }
        }
        return nil
    }
}

/// An entry of a trusted key's `actions`: an action id, `*`, or an action id prefix ending in `*`.
func isValidActionPattern(_ pattern: String) -> Bool {
    if pattern == "*" { return true }
    if pattern.hasSuffix("*") {
        return ManifestParser.actionIDProblem(String(pattern.dropLast())) == nil
    }
    return ManifestParser.actionIDProblem(pattern) == nil
}
