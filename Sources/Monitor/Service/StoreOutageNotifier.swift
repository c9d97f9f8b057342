public import Foundation
public import Logging
public import Probing
public import ServiceLifecycle

/// Tells the channel, once per outage, that this instance cannot reach its store, and once that it can again.
///
/// - **Degraded**: when the store has been unreachable for `store_outage.notify_after` (default 30 s), one
///   message naming the location, since when and the error kind (never the connection string) is posted
///   *directly* to the Discord webhook (the outbox lives in the unreachable database), retried with a backoff
///   (1 s doubling to 60 s) until Discord takes it or the outage ends; without a webhook it is printed.
/// - **Restored**: when the store answers again after a degraded message, one "monitoring restored" message is
///   queued through the outbox (durable now), with the outage's duration.
///
/// An outage shorter than `notify_after` posts nothing. Each instance is its own observer: several instances of
/// one fleet that all lose the database each post their own pair (their location tells them apart), since none
/// can learn from the database that another already did.
public final class StoreOutageNotifier: Service {
    let health: StoreHealth
    let monitor: MonitorService
    let transport: any HTTPTransport
    let logger: Logger
    let console: AlertSender.ConsoleSink
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date

    public init(
        health: StoreHealth,
        monitor: MonitorService,
        transport: any HTTPTransport,
        logger: Logger,
        console: @escaping AlertSender.ConsoleSink = AlertSender.standardOutput,
        clock: any Clock<Duration> = ContinuousClock(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.health = health
        self.monitor = monitor
        self.transport = transport
        self.logger = logger
        self.console = console
        self.clock = clock
        self.now = now
    }

    /// The outbox kind of the "monitoring restored" message.
    static let restoredKind = "store"

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var announced: Date?
            var nextAttempt = Date.distantPast
            var failedAttempts = 0
            while !Task.isCancelled {
                let report = self.health.report
                let at = self.now()
                if !report.reachable, let since = report.since {
                    let due = at.timeIntervalSince(since) >= self.monitor.config.storeOutage.notifyAfter.timeInterval
                    if announced == nil, due, at >= nextAttempt {
                        if await self.postDegraded(report, since: since) {
                            announced = since
                            failedAttempts = 0
                        } else {
                            failedAttempts += 1
                            nextAttempt = at.addingTimeInterval(min(pow(2, Double(failedAttempts - 1)), 60))
                        }
                    }
                } else if let since = announced {
                    if await self.queueRestored(since: since, at: at) { announced = nil }
                } else {
                    (nextAttempt, failedAttempts) = (.distantPast, 0)
                }
                try? await self.clock.sleep(for: .seconds(1))
            }
        }
    }

    /// Posts the degraded message straight to the webhook (or the console). Returns whether it was taken.
    func postDegraded(_ report: StoreHealth.Report, since: Date) async -> Bool {
        let config = monitor.config
        let message = AlertFormatter.storeUnreachable(
            location: config.store.location,
            backend: report.backend,
            since: since,
            error: report.error ?? "unknown error"
        )
        var meta: Logger.Metadata = [
            "location": "\(config.store.location)", "store.since": "\(since.formatted(.iso8601))",
            "store.error": "\(report.error ?? "")",
        ]
        guard let webhook = config.secrets.discordWebhookURL else {
            console("[zumik-monitor alert] \(message.plainText)")
            logger.warning("store unreachable; monitoring degraded message printed", metadata: meta)
            return true
        }
        let result = await transport.send(AlertSender.webhookRequest("POST", message.jsonBody(), to: webhook.value))
        if let status = result.status { meta["http.status"] = .stringConvertible(status) }
        guard let status = result.status, result.error == nil, (200..<300).contains(status) else {
            meta["error"] = "\(result.error?.description ?? "HTTP \(result.status ?? 0)")"
            logger.error("cannot post the monitoring degraded message; retrying", metadata: meta)
            return false
        }
        logger.warning("store unreachable; monitoring degraded message posted", metadata: meta)
        return true
    }

    /// Queues the restored message through the outbox. Returns whether it was queued.
    func queueRestored(since: Date, at: Date) async -> Bool {
        let location = monitor.config.store.location
        let message = AlertFormatter.storeRestored(location: location, since: since, at: at)
        do {
            _ = try await monitor.outbox.enqueue(message, kind: Self.restoredKind, incidentID: nil)
            logger.notice(
                "store reachable again; monitoring restored message queued",
                metadata: ["location": "\(location)", "store.since": "\(since.formatted(.iso8601))"]
            )
            return true
        } catch {
            logger.warning("cannot queue the monitoring restored message yet", metadata: ["error": "\(error)"])
            return false
        }
    }
}
