import ActionKit
import CZumikSys
public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
import NIOPosix
public import Prometheus
public import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// The ops-agent: the HTTP application and the SIGHUP reloader, run as one `ServiceGroup`.
public struct AgentServer: Sendable {
    public let configuration: AgentConfiguration
    let state: AgentState
    /// Every listener's connections, under one set of caps.
    let connections: ConnectionGuard

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
        self.connections = ConnectionGuard(limits: configuration.connectionLimits)
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

    /// The HTTP server for one listener: the connection caps and timeouts of
    /// ``AgentConfiguration/connectionLimits`` on every connection.
    func makeServer() -> HTTPServerBuilder {
        let connections = self.connections
        let idle = configuration.connectionLimits.idleTimeoutSeconds
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuardHandler(connections: connections)],
                idleTimeout: .nanoseconds(Int64(idle * 1_000_000_000))
            )
        )
    }

    /// The HTTP application on the TCP listen address (a `Service`).
    public func makeApplication(
        eventLoopGroup: EventLoopGroupProvider = .singleton,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let configuration = self.configuration
        return makeApplication(
            address: .hostname(configuration.host, port: configuration.port),
            eventLoopGroup: eventLoopGroup
        ) { channel in
            [
                "listen.host": "\(configuration.host)",
                "listen.port": "\(channel.localAddress?.port.map(String.init) ?? "?")",
            ]
        } onServerRunning: { channel in
            await onServerRunning(channel)
        }
    }

    /// The HTTP application on the Unix socket nginx connects to, created 0660: only the agent's
    /// user and group (nginx's) may connect. The one channel whose `X-Forwarded-For` is believed.
    public func makeUnixSocketApplication(
        path: String,
        eventLoopGroup: EventLoopGroupProvider = .singleton,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        makeApplication(address: .unixDomainSocket(path: path), eventLoopGroup: eventLoopGroup) { _ in
            ["listen.unix_socket": "\(path)"]
        } onServerRunning: { channel in
            chmod(path, 0o660)
            await onServerRunning(channel)
        }
    }

    private func makeApplication(
        address: BindAddress,
        eventLoopGroup: EventLoopGroupProvider,
        listening: @escaping @Sendable (any Channel) -> Logger.Metadata,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) -> some ApplicationProtocol {
        let logger = state.logger
        return Application(
            router: makeRouter(),
            server: makeServer(),
            configuration: .init(address: address, serverName: nil, backlog: Self.backlog),
            onServerRunning: { channel in
                await onServerRunning(channel)
                logger.notice("listening", metadata: listening(channel))
            },
            eventLoopGroupProvider: eventLoopGroup,
            logger: logger
        )
    }

    /// Pending connections the kernel queues before the agent accepts them (capped by
    /// `net.core.somaxconn`). Deep, so that a flood of handshakes is accepted and shed by the
    /// ``ConnectionGuard`` instead of overflowing the queue and delaying everyone's handshake.
    static let backlog = 4096

    /// glibc malloc arenas the agent allocates from (`MALLOC_ARENA_MAX` in the environment wins).
    /// Runs each have a thread of their own; by default glibc would give up to 8 per core an arena
    /// of its own and keep each one's freed memory.
    public static let mallocArenas = 2

    /// Caps the arenas at ``mallocArenas``; call first thing, before other threads start.
    public static func capMallocArenas() {
        _ = zumik_malloc_arena_max(Int32(mallocArenas))
    }

    /// Serves until SIGTERM/SIGINT; reloads the bundles on SIGHUP. A running action is let
    /// finish (up to its timeout) before the server stops.
    public func run() async throws {
        // Every listener on one group of `eventLoopThreads` loops (NIO's singleton has one per core).
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        defer { loops.shutdownGracefully { _ in } }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: makeApplication(eventLoopGroup: .shared(loops))),
            .init(service: ReloadService(provider: state.provider, logger: state.logger)),
        ]
        if let path = configuration.unixSocketPath {
            services.append(.init(service: makeUnixSocketApplication(path: path, eventLoopGroup: .shared(loops))))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
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
