import Foundation
public import Hummingbird
public import Logging
public import Probing
public import Prometheus
import ServiceLifecycle
import UnixSignals

/// Wires a whole monitor from a configuration: store, curl engine, outbox sender, monitor loop and control API,
/// as services for one `ServiceGroup` (the executable's `run`, and tests). Issue 5 passes its responder here.
public struct MonitorRuntime: Sendable {
    /// The configured store (`store: sqlite` or `postgres`).
    public let storage: any MonitorStorage
    /// The PostgreSQL pool, run first in the service group (and so stopped last); nil for SQLite.
    let storageService: (any Service)?
    public let engine: CurlEngine
    public let outbox: AlertOutbox
    public let sender: AlertSender
    public let monitor: MonitorService
    /// Posts one "monitoring degraded" message per store outage, and "restored" after it.
    public let storeOutage: StoreOutageNotifier
    /// Rolls the probe history up and prunes it (nil: the store keeps no history).
    public let rollUp: HistoryRollUpService?
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger

    /// What a responder factory gets: the parts it shares with the monitor.
    public struct ResponderEnvironment: Sendable {
        public let config: MonitorConfig
        public let store: any MonitorStorage
        public let outbox: AlertOutbox
        public let transport: any HTTPTransport
        public let logger: Logger
    }

    public init(
        config: MonitorConfig,
        logger: Logger,
        responder: any IncidentResponder = NoIncidentResponder(),
        console: @escaping AlertSender.ConsoleSink = AlertSender.standardOutput
    ) throws {
        try self.init(config: config, logger: logger, makeResponder: { _ in responder }, console: console)
    }

    /// - Parameter makeResponder: builds the incident responder (remediation) from the shared parts.
    public init(
        config: MonitorConfig,
        logger: Logger,
        makeResponder: (ResponderEnvironment) throws -> any IncidentResponder,
        console: @escaping AlertSender.ConsoleSink = AlertSender.standardOutput
    ) throws {
        try ControlAPI.checkListenAddress(host: config.controlHost, token: config.secrets.controlToken)
        self.logger = logger
        registry = PrometheusCollectorRegistry()
        let storeHealth = StoreHealth(backend: config.backendName, registry: registry)
        let opened = try OpenedStore(config, logger: logger, health: storeHealth)
        storage = opened.storage
        storageService = opened.service
        let store = storage
        engine = CurlEngine(maxInFlight: config.maxInFlight)
        let signal = WakeSignal()
        let metrics = MonitorMetrics(registry: registry)
        metrics.buildInfo(version: MonitorRuntime.version)
        let pager = PagerHealth(registry: registry)
        outbox = AlertOutbox(store: store, signal: signal)
        sender = AlertSender(
            store: store,
            transport: engine,
            webhookURL: config.secrets.discordWebhookURL,
            signal: signal,
            retryBase: config.retryBase,
            retryMax: config.retryMax,
            logger: logger,
            console: console,
            pager: pager
        )
        // PostgreSQL: not restored here (its reads need the pool running; see the report of issue-13-port).
        if let sqlite = store as? MonitorStore { sender.restorePagerHealth(from: try sqlite.allOutbox()) }
        let responder = try makeResponder(
            ResponderEnvironment(config: config, store: store, outbox: outbox, transport: engine, logger: logger)
        )
        monitor = MonitorService(
            config: config,
            store: store,
            transport: engine,
            outbox: outbox,
            responder: responder,
            metrics: metrics,
            pager: pager,
            logger: logger,
            history: store as? any HistoryStorage,
            storeHealth: storeHealth
        )
        storeOutage = StoreOutageNotifier(
            health: storeHealth,
            monitor: monitor,
            transport: engine,
            logger: logger,
            console: console
        )
        rollUp = (store as? any HistoryStorage).map {
            HistoryRollUpService(
                history: $0,
                settings: config.history,
                spanCap: HistorySpan.cap(interval: config.interval),
                logger: logger
            )
        }
    }

    /// The control API application (a `Service`).
    public func controlApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let config = monitor.config
        return Application(
            router: ControlAPI.router(
                monitor: monitor,
                token: config.secrets.controlToken,
                registry: registry,
                refresh: refreshMetrics
            ),
            configuration: .init(
                address: .hostname(config.controlHost, port: config.controlPort),
                serverName: "zumik-monitor"
            ),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The monitor's version (`zumik-monitor --version`, `zumik_monitor_build_info`).
    public static let version = "0.1.0"

    /// Sets the gauges read from the store (the outbox's backlog) just before a scrape.
    @Sendable func refreshMetrics() {
        guard let backlog = try? (storage as? MonitorStore)?.outboxBacklog() else { return }
        monitor.metrics.outbox(backlog, now: Date())
    }

    /// Runs sender, monitor loop and control API until SIGTERM/SIGINT (shutdown in reverse order).
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // Started in this order, shut down in reverse; the store's pool (PostgreSQL) and the roll-up are optional.
        let services: [(any Service)?] = [
            storageService, sender, monitor, storeOutage, rollUp, controlApplication(onServerRunning: onServerRunning),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services.compactMap { $0 }.map {
                    ServiceGroupConfiguration.ServiceConfiguration(service: $0)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// The SQLite store (tests and tools of a `store: sqlite` monitor).
    public var store: MonitorStore {
        guard let sqlite = storage as? MonitorStore else {
            preconditionFailure("MonitorRuntime.store: this monitor's store is PostgreSQL; use `storage`")
        }
        return sqlite
    }
}
