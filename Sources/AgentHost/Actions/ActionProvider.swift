public import ActionKit

/// One action the agent may run: its signed spec, the bundle it came from, and the bundle's
/// reading of a run's output.
public struct RunnableAction: Sendable {
    public var spec: ActionSpec
    public var bundle: AgentAPI.BundleRef
    /// The plugin's reading of a finished command (exit code or signal, stdout, stderr).
    public var interpret:
        @Sendable (_ exitCode: Int?, _ signal: Int?, _ stdout: [UInt8], _ stderr: [UInt8]) -> JSONValue?

    public init(
        spec: ActionSpec,
        bundle: AgentAPI.BundleRef,
        interpret: @escaping @Sendable (Int?, Int?, [UInt8], [UInt8]) -> JSONValue? = { _, _, _, _ in nil }
    ) {
        self.spec = spec
        self.bundle = bundle
        self.interpret = interpret
    }
}

/// Where the agent's actions come from: the bundle registry in production.
public protocol ActionProvider: Sendable {
    /// Every loaded action plus refused bundles and why.
    func catalog() -> AgentAPI.Catalog
    /// The action with this (already validated) id, if loaded.
    func runnableAction(id: String) -> RunnableAction?
    /// Rescans the bundle directory (SIGHUP). Never unloads code; a removed bundle's actions
    /// leave the catalog.
    func reloadActions()
}

/// A fixed set of actions, for embedding and tests.
public struct StaticActionProvider: ActionProvider {
    public var actions: [RunnableAction]
    public var refused: [AgentAPI.RefusedBundle]

    public init(actions: [RunnableAction], refused: [AgentAPI.RefusedBundle] = []) {
        self.actions = actions
        self.refused = refused
    }

    public func catalog() -> AgentAPI.Catalog {
        AgentAPI.Catalog(
            actions: actions.map { AgentAPI.CatalogAction(spec: $0.spec, bundle: $0.bundle) },
            refusedBundles: refused
        )
    }

    public func runnableAction(id: String) -> RunnableAction? { actions.first { $0.spec.id == id } }

    public func reloadActions() {}
}
