import ActionKit

/// Which verified bundles of one scan are served: the rules between bundles, applied after every
/// bundle was verified on its own and before anything is dlopened.
///
/// 1. One copy per bundle id: the highest serial wins; lower serials are refused as `superseded`
///    naming the winner (equal serials: the first by directory name is kept).
/// 2. An action id declared by bundles signed by *different* keys is served by none of them:
///    which one is rightful is the keys' `actions` lists' business (checked at `key-scope`), and
///    directory order must never decide. Each is refused at `duplicate-action`, naming the others.
/// 3. An action id declared twice under the *same* key: the first bundle by directory name keeps it.
enum BundleSelection {
    /// The bundles to load, in directory-name order, and the refusals.
    static func select(_ verified: [BundleLoader.Verified]) -> (
        selected: [BundleLoader.Verified], refused: [BundleRefusal]
    ) {
        var refused: [BundleRefusal] = []
        let ordered = verified.sorted { $0.directory < $1.directory }

        // 1. Highest serial per bundle id.
        var best: [String: BundleLoader.Verified] = [:]
        for candidate in ordered {
            let id = candidate.manifest.bundle.id
            if let current = best[id], current.manifest.bundle.serial >= candidate.manifest.bundle.serial {
                continue
            }
            best[id] = candidate
        }
        var current: [BundleLoader.Verified] = []
        for candidate in ordered {
            let winner = best[candidate.manifest.bundle.id]!
            if winner.directory == candidate.directory {
                current.append(candidate)
                continue
            }
            let bundle = candidate.manifest.bundle
            let winning = winner.manifest.bundle.serial
            let reason =
                winning == bundle.serial
                ? "\(bundle.id) serial \(bundle.serial) is also in directory \(winner.directory), which is kept (the first by name among equal serials)"
                : "\(bundle.id) serial \(bundle.serial) is superseded by serial \(winning) in directory \(winner.directory)"
            refused.append(BundleRefusal(candidate.directory, .superseded, reason))
        }

        // 2. Action ids claimed under more than one key.
        var declarers: [String: [BundleLoader.Verified]] = [:]
        for candidate in current {
            for action in candidate.manifest.actions { declarers[action.id, default: []].append(candidate) }
        }
        var contested: [String: String] = [:]  // directory -> reason
        for (actionID, bundles) in declarers.sorted(by: { $0.key < $1.key }) {
            guard Set(bundles.map(\.signature.keyID)).count > 1 else { continue }
            for bundle in bundles where contested[bundle.directory] == nil {
                let others = bundles.filter { $0.directory != bundle.directory }.map {
                    "bundle \($0.directory) (key \"\($0.signature.keyID)\")"
                }
                contested[bundle.directory] =
                    "action id \"\(actionID)\" is also declared by \(others.joined(separator: ", ")); an id claimed under two keys is served by neither (list it in one key's \"actions\")"
            }
        }
        current = current.filter { candidate in
            guard let reason = contested[candidate.directory] else { return true }
            refused.append(BundleRefusal(candidate.directory, .duplicateAction, reason))
            return false
        }

        // 3. Same key, same action id: the first by directory name.
        var owners: [String: String] = [:]
        var selected: [BundleLoader.Verified] = []
        for candidate in current {
            let clashes = candidate.manifest.actions.compactMap { action in
                owners[action.id].map { "\"\(action.id)\" (already provided by bundle \($0))" }
            }
            guard clashes.isEmpty else {
                refused.append(
                    BundleRefusal(
                        candidate.directory,
                        .duplicateAction,
                        "action id \(clashes.joined(separator: ", ")) declared twice; the whole bundle is skipped"
                    )
                )
                continue
            }
            for action in candidate.manifest.actions { owners[action.id] = candidate.directory }
            selected.append(candidate)
        }
        return (selected, refused)
    }
}
