import ActionKit
public import Hummingbird
public import Logging
public import NIOCore
public import Prometheus
public import ServiceLifecycle
import UnixSignals

/// The ops-agent: the HTTP application and the SIGHUP reloader, run as one `ServiceGroup`.
public struct AgentServer: Sendable {
    public let configuration: AgentConfiguration
    let state: AgentState

    /// - Parameters:
    ///   - provider: the actions (the bundle registry in production).
    ///   - auditLog: opened by the caller so a bad path is a start-up refusal.
    ///   - metricsRegistry: where `/metrics` reads from; the executable also bootstraps
    ///     swift-metrics with it.
    ///   - now: the clock limits are measured with.
    public init(
        configuration: AgentConfiguration,
        provider: any ActionProvider,
        auditLog: AuditLog,
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.configuration = configuration
        self.state = AgentState(
            configuration: configuration,
            provider: provider,
            auditLog: auditLog,
            metrics: AgentMetrics(registry: metricsRegistry),
            logger: logger,
            now: now
        )
    }

    /// Logs the catalog's size (the registry logs each refused bundle with its step and reason).
    public func logCatalog() {
        let catalog = state.provider.catalog()
        state.logger.notice(
            "catalog loaded",
            metadata: [
                "version": "\(AgentHost.version)", "catalog.actions": "\(catalog.actions.count)",
                "catalog.refused": "\(catalog.refusedBundles.count)",
                "audit.path": "\(configuration.auditLogPath)",
            ]
        )
    }

    /// The router with every route and middleware.
    public func makeRouter() -> Router<AgentRequestContext> {
        let router = Router(context: AgentRequestContext.self)
        router.add(middleware: EnvelopeMiddleware(state: state))
        router.add(middleware: MethodGuardMiddleware())
        router.add(middleware: RateLimitMiddleware(state: state))
        router.add(middleware: BearerAuthMiddleware(state: state))
        AgentRoutesHandlers(state: state).register(on: router)
        MCPEndpoint(state: state, configuration: configuration.mcp).register(on: router)
        return router
    }

    /// The HTTP application (a `Service`).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let logger = state.logger
        return Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                logger.notice(
                    "listening",
                    metadata: [
                        "listen.host": "\(configuration.host)",
                        "listen.port": "\(channel.localAddress?.port.map(String.init) ?? "?")",
                    ]
                )
                await onServerRunning(channel)
            },
            logger: logger
        )
    }

    /// Serves until SIGTERM/SIGINT; reloads the bundles on SIGHUP. A running action is let
    /// finish (up to its timeout) before the server stops.
    public func run() async throws {
        let application = makeApplication()
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application),
                    .init(service: ReloadService(provider: state.provider, logger: state.logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: state.logger
            )
        )
        try await group.run()
    }
}

/// Rescans the bundles on every SIGHUP.
public struct ReloadService: Service {
    let provider: any ActionProvider
    let logger: Logger

    public init(provider: any ActionProvider, logger: Logger) {
        self.provider = provider
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: [.sighup])
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.notice("SIGHUP: reloading bundles")
            provider.reloadActions()
            let catalog = provider.catalog()
            logger.notice(
                "bundles reloaded",
                metadata: [
                    "catalog.actions": "\(catalog.actions.count)",
                    "catalog.refused": "\(catalog.refusedBundles.count)",
                ]
            )
        }
    }
}
