import ActionKit

/// The deterministic ladder: without a model (or after it failed), the service's diagnostics are read once (a
/// resumed incident does not read them again), then its remediations are tried narrowest first. Pure: the plan
/// is a function of the offered catalog and of what the journal says already ran.
struct Ladder: Equatable {
    /// Read-only actions to run first (no round cost).
    var diagnostics: [AgentAPI.CatalogAction]
    /// Remediations to try in order, one round each.
    var remediations: [AgentAPI.CatalogAction]

    /// Narrowest first (rank), then by id so the order is stable; actions in `tried` are skipped.
    init(offered: [AgentAPI.CatalogAction], tried: Set<String>) {
        func pending(_ kind: ActionKind) -> [AgentAPI.CatalogAction] {
            offered
                .filter { $0.kind == kind && !tried.contains($0.id) }
                .sorted { ($0.rank, $0.id) < ($1.rank, $1.id) }
        }
        diagnostics = pending(.diagnostic)
        remediations = pending(.remediation)
    }
}
