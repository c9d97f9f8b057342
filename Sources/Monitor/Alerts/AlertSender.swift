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

/// Drains the outbox to Discord (or to the console when no webhook URL is set): pages and transition alerts
/// first, then narration (remediation notices), each oldest first.
///
/// - 2xx: marked delivered immediately (the only window for a duplicate is between Discord's 2xx and that
///   commit);
/// - 429: waits `retry_after` (JSON body, seconds, float) or the `Retry-After` header, then retries;
/// - 5xx and network errors: exponential backoff from `retryBase` up to `retryMax`, retried forever;
/// - any other 4xx: logged and parked as failed (kept in the table, never deleted; `zumik-monitor outbox
///   retry` queues it again). A refused page is first re-sent at once in its minimal form
///   (``DiscordMessage/minimalPage(userID:property:incidentID:)``), which Discord cannot refuse for its
///   text; when that fails too, or Discord refuses with 401/403/404 (the webhook is gone), the pager is
///   reported broken (``PagerHealth``) and an error line says how to fix it.
///
/// A row waiting for a retry holds back the rows after it, so Discord shows transitions in order.
public final class AlertSender: Service {
    public typealias ConsoleSink = @Sendable (String) -> Void

    /// The console sink: one unbuffered write(2) to standard output per alert, so under systemd or Docker
    /// (stdout not a terminal) the line is out when the outbox marks the alert delivered.
    public static let standardOutput: ConsoleSink = { text in
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    let store: any MonitorStorage
    let transport: any HTTPTransport
    let webhookURL: Secret?
    let signal: WakeSignal
    let retryBase: Duration
    let retryMax: Duration
    let logger: Logger
    let console: ConsoleSink
    let clock: any Clock<Duration>
    /// What the sender saw last: shown by `/healthz`, the status report and the metrics.
    public let pager: PagerHealth

    /// - Parameter clock: what the sender sleeps on between passes (tests may pass their own).
    public init(
        store: any MonitorStorage,
        transport: any HTTPTransport,
        webhookURL: Secret?,
        signal: WakeSignal,
        retryBase: Duration = .seconds(1),
        retryMax: Duration = .seconds(300),
        logger: Logger,
        console: @escaping ConsoleSink = AlertSender.standardOutput,
        clock: any Clock<Duration> = ContinuousClock(),
        pager: PagerHealth = PagerHealth()
    ) {
        self.clock = clock
        self.pager = pager
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
        do {
            guard let webhookURL else {
                try await printToConsole(row, now: now)
                return .delivered
            }
            let result: HTTPResult
            if row.kind == Self.incidentKind {
                switch try await sendIncidentMessage(row, webhookURL: webhookURL, meta: meta, now: now) {
                case .sent: return .delivered
                case .refused(let refusal): result = refusal
                }
            } else {
                result = await send("POST", try await body(of: row), to: webhookURL.value)
                if let status = result.status, (200..<300).contains(status) {
                    meta["http.status"] = .stringConvertible(status)
                    try await store.markDelivered(row.id, at: now())
                    pager.delivered()
                    pager.deliveredAlert(kind: row.kind)
                    logger.debug("alert delivered", metadata: meta)
                    if row.kind == Self.pageKind {
                        logger.notice("page delivered to the on-call human", metadata: meta)
                    }
                    return .delivered
                }
            }
            return try await notDelivered(row, result, webhookURL: webhookURL, meta: meta, now: now)
        } catch {
            logger.error("outbox update failed", metadata: meta.merging(["error": "\(error)"]) { $1 })
            return .retryLater
        }
    }

    /// Without a webhook URL: the alert's words on standard output (an incident message is printed again,
    /// whole, each time it changes).
    private func printToConsole(_ row: OutboxRow, now: () -> Date) async throws {
        if row.kind == Self.incidentKind, let id = row.incidentID {
            if let message = try await renderIncidentMessage(id, now: now()) {
                console("[zumik-monitor alert] \(message.plainText)")
            }
            _ = try await store.incidentMessageSent(
                outboxID: row.id,
                rendered: row.payload,
                incidentID: id,
                messageID: nil,
                at: now()
            )
            pager.deliveredAlert(kind: row.kind)
            return
        }
        let payload = String(decoding: try await body(of: row), as: UTF8.self)
        let text = DiscordMessage.plainText(ofPayload: payload) ?? payload
        console("[zumik-monitor alert] \(text)")
        try await store.markDelivered(row.id, at: now())
        pager.deliveredAlert(kind: row.kind)
    }

    /// What to do with a row Discord did not accept: retry (429, 5xx, no answer), or park it (other 4xx;
    /// a refused page is first re-sent in its minimal form).
    private func notDelivered(
        _ row: OutboxRow,
        _ result: HTTPResult,
        webhookURL: Secret,
        meta: Logger.Metadata,
        now: () -> Date
    ) async throws -> Outcome {
        var meta = meta
        if let status = result.status, result.error == nil || (200..<300).contains(status) {
            meta["http.status"] = .stringConvertible(status)
            if status == 429 {
                pager.deliveryFailed(kind: row.kind, reason: "rate_limited")
                let wait = Self.retryAfter(result) ?? 1
                try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: "429 rate limited")
                meta["retry.after_s"] = .stringConvertible(wait)
                logger.warning("Discord rate limited the alert; retrying", metadata: meta)
                return .retryLater
            }
            if (500..<600).contains(status) {
                pager.deliveryFailed(kind: row.kind, reason: "server_error")
                let wait = backoff(attempts: row.attempts)
                try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: "HTTP \(status)")
                meta["retry.after_s"] = .stringConvertible(wait)
                logger.warning("Discord answered a server error; retrying", metadata: meta)
                return .retryLater
            }
            pager.deliveryFailed(kind: row.kind, reason: "refused")
            let detail = String(result.bodyText.prefix(300))
            meta["error"] = "\(detail)"
            if row.kind == Self.pageKind {
                if let outcome = try await deliverMinimal(row, webhookURL: webhookURL, meta: meta, now: now) {
                    return outcome
                }
            }
            try await store.markFailed(row.id, at: now(), error: "HTTP \(status): \(detail)")
            pager.parked(kind: row.kind)
            if row.kind == Self.pageKind || [401, 403, 404].contains(status) {
                pager.broken(Self.brokenAdvice(status: status, detail: detail), at: now())
                meta["fix"] = "\(Self.fixHint)"
                logger.error("Discord refused the alert; the pager is broken; parked as failed", metadata: meta)
            } else {
                logger.error("Discord refused the alert; parked as failed", metadata: meta)
            }
            return .parked
        }
        pager.deliveryFailed(kind: row.kind, reason: "network")
        let wait = backoff(attempts: row.attempts)
        let reason = result.error?.description ?? "no response"
        try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: reason)
        meta["error"] = "\(reason)"
        meta["retry.after_s"] = .stringConvertible(wait)
        logger.warning("alert delivery failed; retrying", metadata: meta)
        return .retryLater
    }

    /// The outbox kind of a page (`MonitorStorage.pageOnce` queues pages under it).
    static let pageKind = "page"
    static let fixHint =
        "check DISCORD_WEBHOOK_URL (the webhook may have been deleted or its token changed), "
        + "then run `zumik-monitor outbox retry` to re-send what was parked"

    static func brokenAdvice(status: Int, detail: String) -> String {
        "Discord refused delivery with HTTP \(status) (\(detail)): \(fixHint)"
    }

    /// Re-sends a page Discord refused in its minimal form. Returns nil when that was refused too (the caller
    /// parks the row), else what became of the row.
    private func deliverMinimal(_ row: OutboxRow, webhookURL: Secret, meta: Logger.Metadata, now: () -> Date)
        async throws -> Outcome?
    {
        var meta = meta
        var property: String?
        if let id = row.incidentID { property = try await store.incident(id: id)?.property }
        let minimal = DiscordMessage.minimalPage(
            userID: DiscordMessage.mentionedUser(ofPayload: row.payload),
            property: property ?? "a monitored property",
            incidentID: row.incidentID
        )
        let result = await send("POST", minimal.jsonBody(), to: webhookURL.value)
        if let status = result.status { meta["minimal.http_status"] = .stringConvertible(status) }
        switch result.status {
        case .some(let status) where (200..<300).contains(status):
            try await store.markDelivered(row.id, at: now())
            pager.deliveredMinimal()
            pager.delivered()
            pager.deliveredAlert(kind: row.kind)
            logger.warning("Discord refused the page; delivered its minimal form instead", metadata: meta)
            logger.notice("page delivered to the on-call human", metadata: meta)
            return .delivered
        case .some(let status) where (400..<500).contains(status) && status != 429:
            return nil
        default:
            let wait = backoff(attempts: row.attempts)
            try await store.scheduleRetry(row.id, at: now().addingTimeInterval(wait), error: "minimal page not sent")
            meta["retry.after_s"] = .stringConvertible(wait)
            logger.warning("Discord refused the page and its minimal form was not sent; retrying", metadata: meta)
            return .retryLater
        }
    }

    func send(_ method: String, _ body: [UInt8], to url: String) async -> HTTPResult {
        await transport.send(Self.webhookRequest(method, body, to: url))
    }

    /// A JSON request to the Discord webhook (also `StoreOutageNotifier`'s direct post).
    static func webhookRequest(_ method: String, _ body: [UInt8], to url: String) -> HTTPRequest {
        HTTPRequest(
            method: method,
            url: url,
            headers: [(name: "Content-Type", value: "application/json")],
            body: body,
            timeout: .seconds(15),
            maxResponseBytes: 64 * 1024
        )
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
