public import Foundation
public import Logging
public import Probing
public import ServiceLifecycle

/// The durable outbox, as issue 5 sees it: enqueue any message (remediation progress, pages) and the sender
/// delivers it with the same retries and ordering as transition alerts.
public struct AlertOutbox: Sendable {
    public let store: any MonitorStorage
    public let signal: WakeSignal

    public init(store: any MonitorStorage, signal: WakeSignal) {
        self.store = store
        self.signal = signal
    }

    /// Durably queues `message` and wakes the sender. `kind` is free text for the record ("remediation", …).
    @discardableResult
    public func enqueue(_ message: DiscordMessage, kind: String, incidentID: IncidentID?) async throws -> Int64 {
        let id = try await store.enqueue(message, kind: kind, incidentID: incidentID, now: Date())
        signal.signal()
        return id
    }

    /// Wakes the sender after something queued a message through the store directly (the journal).
    public func wake() { signal.signal() }
}

/// Drains the outbox to Discord (or to the console when no webhook URL is set), oldest first.
///
/// - 2xx: marked delivered immediately (the only window for a duplicate is between Discord's 2xx and that
///   commit);
/// - 429: waits `retry_after` (JSON body, seconds, float) or the `Retry-After` header, then retries;
/// - 5xx and network errors: exponential backoff from `retryBase` up to `retryMax`, retried forever;
/// - any other 4xx: logged and parked as failed (kept in the table, never deleted).
///
/// A row waiting for a retry holds back the rows after it, so Discord shows transitions in order.
public final class AlertSender: Service {
    public typealias ConsoleSink = @Sendable (String) -> Void

    let store: any MonitorStorage
    let transport: any HTTPTransport
    let webhookURL: Secret?
    let signal: WakeSignal
    let retryBase: Duration
    let retryMax: Duration
    let logger: Logger
    let console: ConsoleSink
    let clock: any Clock<Duration>

    /// - Parameter clock: what the sender sleeps on between passes (tests may pass their own).
    public init(
        store: any MonitorStorage,
        transport: any HTTPTransport,
        webhookURL: Secret?,
        signal: WakeSignal,
        retryBase: Duration = .seconds(1),
        retryMax: Duration = .seconds(300),
        logger: Logger,
        console: @escaping ConsoleSink = { print($0) },
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.clock = clock
        self.store = store
        self.transport = transport
        self.webhookURL = webhookURL
        self.signal = signal
        self.retryBase = retryBase
        self.retryMax = retryMax
        self.logger = logger
        self.console = console
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.deliverDue()
                } catch {
                    self.logger.error("outbox delivery pass failed", metadata: ["error": "\(error)"])
                }
                let next = (try? await self.store.nextOutboxDue()) ?? nil
                let wait = next.map { max(0.001, $0.timeIntervalSinceNow) } ?? 60
                await self.signal.wait(timeout: .milliseconds(Int64(min(wait, 60) * 1000)), clock: self.clock)
            }
        }
    }

    /// Delivers every due row in order; stops at the first that must be retried. Returns rows delivered.
    @discardableResult
    public func deliverDue(now: @Sendable () -> Date = Date.init) async throws -> Int {
        var delivered = 0
        while !Task.isCancelled {
            let rows = try await store.dueOutbox(now: now(), limit: 20)
            if rows.isEmpty { return delivered }
            for row in rows {
                if Task.isCancelled { return delivered }
                switch await deliver(row, now: now) {
                case .delivered: delivered += 1
                case .parked: continue
                case .retryLater: return delivered
                }
            }
        }
        return delivered
    }

    enum Outcome { case delivered, parked, retryLater }

    private func deliver(_ row: OutboxRow, now: () -> Date) async -> Outcome {
        var meta: Logger.Metadata = ["outbox.id": .stringConvertible(row.id), "outbox.kind": "\(row.kind)"]
        if let incident = row.incidentID { meta["incident.id"] = .stringConvertible(incident) }
        guard let webhookURL else {
            let text = DiscordMessage.plainText(ofPayload: row.payload) ?? row.payload
            console("[zumik-monitor alert] \(text)")
            do {
                try await store.markDelivered(row.id, at: now())
                return .delivered
            } catch {
                logger.error("cannot mark outbox row delivered", metadata: meta.merging(["error": "\(error)"]) { $1 })
                return .retryLater
            }
        }
        let result = await transport.send(
            HTTPRequest(
                method: "POST",
                url: webhookURL.value,
                headers: [(name: "Content-Type", value: "application/json")],
                body: Array(row.payload.utf8),
                timeout: .seconds(15),
                maxResponseBytes: 64 * 1024
            )
        )
        do {
            if let status = result.status, result.error == nil || (200..<300).contains(status) {
                meta["http.status"] = .stringConvertible(status)
                if (200..<300).contains(status) {
                    try await store.markDelivered(row.id, at: now())
                    logger.debug("alert delivered", metadata: meta)
                    return .delivered
                }
                if status == 429 {
                    let wait = Self.retryAfter(result) ?? 1
                    try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: "429 rate limited")
                    meta["retry.after_s"] = .stringConvertible(wait)
                    logger.warning("Discord rate limited the alert; retrying", metadata: meta)
                    return .retryLater
                }
                if (500..<600).contains(status) {
                    let wait = backoff(attempts: row.attempts)
                    try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: "HTTP \(status)")
                    meta["retry.after_s"] = .stringConvertible(wait)
                    logger.warning("Discord answered a server error; retrying", metadata: meta)
                    return .retryLater
                }
                let detail = String(result.bodyText.prefix(300))
                try await store.markFailed(row.id, at: now(), error: "HTTP \(status): \(detail)")
                meta["error"] = "\(detail)"
                logger.error("Discord refused the alert; parked as failed", metadata: meta)
                return .parked
            }
            let wait = backoff(attempts: row.attempts)
            let reason = result.error?.description ?? "no response"
            try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: reason)
            meta["error"] = "\(reason)"
            meta["retry.after_s"] = .stringConvertible(wait)
            logger.warning("alert delivery failed; retrying", metadata: meta)
            return .retryLater
        } catch {
            logger.error("outbox update failed", metadata: meta.merging(["error": "\(error)"]) { $1 })
            return .retryLater
        }
    }

    func backoff(attempts: Int) -> TimeInterval {
        let base = retryBase.timeInterval
        let value = base * pow(2, Double(min(attempts, 30)))
        return min(value, retryMax.timeInterval)
    }

    /// `retry_after` (seconds, float) from the 429 JSON body, else the `Retry-After` header (seconds).
    static func retryAfter(_ result: HTTPResult) -> TimeInterval? {
        struct Body: Decodable {
            var retryAfter: Double?
            enum CodingKeys: String, CodingKey { case retryAfter = "retry_after" }
        }
        if let body = try? JSONDecoder().decode(Body.self, from: Data(result.body)), let value = body.retryAfter,
            value.isFinite, value >= 0
        {
            return min(value, 3600)
        }
        if let header = result.header("retry-after"), let value = Double(header), value.isFinite, value >= 0 {
            return min(value, 3600)
        }
        return nil
    }
}
