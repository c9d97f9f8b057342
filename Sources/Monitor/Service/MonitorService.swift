public import Foundation
public import Logging
public import Probing
public import ServiceLifecycle
import Synchronization

/// The monitor loop: probes every property each `interval` (concurrently; the transport caps transfers in
/// flight), runs the early confirmation probe the debounce asks for, records every result in the store (which
/// writes alerts to the outbox in the same transaction), wakes the sender, ends expired silences and hands
/// confirmed-down incidents of remediable properties to the `IncidentResponder` (see `IncidentResponder.swift`).
public final class MonitorService: Service {
    /// The running configuration: swapped whole by `reload` (SIGHUP), with its generation (1 at start).
    let live: Mutex<(config: MonitorConfig, generation: Int)>
    public var config: MonitorConfig { live.withLock { $0.config } }
    public var configGeneration: Int { live.withLock { $0.generation } }
    public let store: any MonitorStorage
    public let outbox: AlertOutbox
    let prober: Prober
    let transport: any HTTPTransport
    let responder: any IncidentResponder
    let metrics: MonitorMetrics
    /// Whether alerts reach Discord, as the sender reports it (shown by `/healthz` and the status).
    public let pager: PagerHealth
    let logger: Logger
    let now: @Sendable () -> Date
    let clock: any Clock<Duration>
    /// Where every probe result is kept for the status history (nil: none kept).
    let history: (any HistoryStorage)?
    /// Whether the store answers (`/healthz`, the status report, the metrics, `StoreOutageNotifier`).
    public let storeHealth: StoreHealth
    /// Results the store could not take while unreachable, recorded before the property's next one.
    let unrecorded = UnrecordedResults()
    /// Results recorded together (`MonitorService+Recording.swift`).
    let recorder = GroupRecorder<RecordRequest, RecordAttempt>()

    struct Schedule {
        var nextDue: [String: Date] = [:]
        /// Properties whose probe is running: not started again until it is recorded.
        var probing: Set<String> = []
        var responding: Set<IncidentID> = []
        /// When to look for remediations to take over next (`takeOverExpiredRemediations`).
        var nextTakeover: Date = .distantPast
        /// When to renew this location's heartbeat next (`renewLocation`, once per cycle).
        var nextHeartbeat: Date = .distantPast
        /// Active silences, mirrored from the store so the loop need not read every state each tick.
        var silences: [String: Date] = [:]
        /// Properties silenced by an open maintenance window: the window's name and end.
        var maintenance: [String: StatusReport.Maintenance] = [:]
    }

    let schedule = Mutex(Schedule())
    let wake = WakeSignal()
    private let responses: AsyncStream<IncidentContext>
    private let responseQueue: AsyncStream<IncidentContext>.Continuation

    public init(
        config: MonitorConfig,
        store: any MonitorStorage,
        transport: any HTTPTransport,
        outbox: AlertOutbox,
        responder: any IncidentResponder = NoIncidentResponder(),
        metrics: MonitorMetrics = MonitorMetrics(),
        pager: PagerHealth = PagerHealth(),
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        clock: any Clock<Duration> = ContinuousClock(),
        history: (any HistoryStorage)? = nil,
        storeHealth: StoreHealth = StoreHealth(backend: "sqlite")
    ) {
        self.storeHealth = storeHealth
        self.history = history
        self.clock = clock
        self.live = Mutex((Self.resolved(config), 1))
        self.store = store
        self.transport = transport
        self.outbox = outbox
        self.responder = responder
        self.metrics = metrics
        self.pager = pager
        self.logger = logger
        self.now = now
        self.prober = Prober(transport: transport)
        (responses, responseQueue) = AsyncStream.makeStream(of: IncidentContext.self)
    }

    public func run() async throws {
        if let open = try? await store.openIncidentCount() { metrics.openIncidents(open) }
        if let states = try? await store.allStates() {
            for state in states where config.property(named: state.name) != nil {
                metrics.state(state.name, state.health)
            }
            schedule.withLock { s in
                for state in states { if let until = state.silencedUntil { s.silences[state.name] = until } }
            }
        }
        await resumeOpenIncidents()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown { await self.loop() }
                self.responseQueue.finish()
            }
            for await context in responses {
                group.addTask { await self.respond(context) }
            }
            group.cancelAll()
        }
    }

    /// Each property on its own: a due property's probe runs in its own child task and is recorded (and
    /// alerted) as soon as it ends, so a slow or hung probe never delays another property's probe,
    /// confirmation or alert. The engine's in-flight cap is shared first come, first served.
    private func loop() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let start = now()
                metrics.cycle(at: start)
                // While the store is unreachable the loop only probes: the probes' own records find out when it
                // answers again, and these wait for it (nothing here may stall the probes).
                if storeHealth.isReachable {
                    await openMaintenanceWindows(now: start)
                    await endExpiredSilences(now: start)
                    await renewLocation(now: start)
                    await takeOverExpiredRemediations(now: start)
                    await remindDue()
                }
                let due = duePropertiesAndReschedule(now: start)
                let cycle = ProbeCycle(started: start, properties: due.count)
                for property in due {
                    group.addTask {
                        let result = await self.prober.probe(property.target, now: self.now)
                        await self.record(result, property: property)
                        self.schedule.withLock { _ = $0.probing.remove(property.name) }
                        if let seconds = cycle.recorded(at: self.now()) {
                            cycle.done(after: seconds, metrics: self.metrics, logger: self.logger)
                        }
                        self.wake.signal()
                    }
                }
                let next = schedule.withLock { s in
                    s.nextDue.filter { !s.probing.contains($0.key) }.values.min()
                }
                let wait = min(max((next ?? start.addingTimeInterval(1)).timeIntervalSince(now()), 0.001), 1)
                await wake.wait(timeout: .milliseconds(Int64(wait * 1000)), clock: clock)
            }
            group.cancelAll()
        }
    }

    /// Properties due at `now` and not being probed; each is marked in flight and gets its next regular due
    /// time (a confirmation may pull it earlier).
    private func duePropertiesAndReschedule(now: Date) -> [PropertyConfig] {
        let config = self.config
        return schedule.withLock { s in
            var due: [PropertyConfig] = []
            for property in config.properties where !s.probing.contains(property.name) {
                let next = s.nextDue[property.name] ?? now
                if next <= now {
                    due.append(property)
                    s.probing.insert(property.name)
                    s.nextDue[property.name] = now.addingTimeInterval(config.interval(for: property).timeInterval)
                }
            }
            return due
        }
    }

    /// Runs one cycle over every property now ("check now", the `check` command). Returns results in
    /// configuration order.
    public func checkNow() async -> [ProbeResult] {
        await probeAndRecord(config.properties)
    }

    /// Probes `name` again (remediation's re-probe), with the other properties of its incident group (same
    /// host and service) that are not healthy, so that the shared incident closes as soon as all recovered.
    public func reprobe(property name: String) async -> ProbeResult? {
        guard let property = config.property(named: name) else { return nil }
        var peers: [PropertyConfig] = []
        if let group = property.incidentGroup {
            for peer in config.properties where peer.name != name && peer.incidentGroup == group {
                if let state = try? await store.state(of: peer.name), state.health != .healthy { peers.append(peer) }
            }
        }
        return await probeAndRecord([property] + peers).first
    }

    private func probeAndRecord(_ properties: [PropertyConfig]) async -> [ProbeResult] {
        let results = await prober.probeAll(properties.map(\.target), now: now)
        for (property, result) in zip(properties, results) {
            await record(result, property: property)
        }
        return results
    }

    private func record(_ result: ProbeResult, property: PropertyConfig) async {
        metrics.probe(result)
        logger.debug("probe", metadata: Self.metadata(result))
        await recordKeepingWhatTheStoreCannotTake(result, property: property)
    }

    static func metadata(_ result: ProbeResult) -> Logger.Metadata {
        var meta: Logger.Metadata = [
            "probe.property": "\(result.property)", "probe.health": "\(result.health.rawValue)",
            "probe.total_ms": .stringConvertible(Int(result.timings.totalMs)),
        ]
        if !result.reasons.isEmpty { meta["probe.reasons"] = "\(result.reasons.joined(separator: "; "))" }
        return meta
    }

    /// Records one result (its history sample first, unless `item.sampleKept`). Returns false, writing nothing
    /// more, when the store is unreachable (`StoreUnavailable`): the caller keeps the result for later. A
    /// `replayed` result (kept during an outage) never hands its incident to remediation at once: the next
    /// takeover pass offers an incident still open and down, with a re-probe first.
    func recordOne(_ item: inout UnrecordedResults.Item, property: PropertyConfig, replayed: Bool) async -> Bool {
        let result = item.result
        var meta = Self.metadata(result)
        var request = recordRequest(result, property: property, replayed: replayed)
        request.sample =
            item.sampleKept ? nil : history.map { _ in HistorySample(result, location: config.store.location) }
        // A history apart from the store cannot share the record's transaction: then each is written on its own.
        let attempt =
            request.sample != nil && !historyIsTheStore ? await recordAlone(request) : await recordGrouped(request)
        let recorded: RecordOutcome
        switch attempt {
        case .recorded(let outcome):
            item.sampleKept = true
            recorded = outcome
        case .unavailable(let sampleKept):
            item.sampleKept = item.sampleKept || sampleKept
            return false
        case .failed(let error):
            // The observation is lost, nothing else: the next probe repeats it against the stored state.
            meta["error"] = "\(error)"
            logger.error("cannot record probe result", metadata: meta)
            return true
        }
        if recorded.superseded {
            logger.debug(
                "kept probe result superseded by the fleet's newer record; recorded for this location only",
                metadata: meta
            )
            return true
        }
        await noteCertificate(result, silenced: recorded.silenced)
        metrics.state(property.name, recorded.state.health)
        if let confirmAt = recorded.confirmAt {
            schedule.withLock { s in
                if (s.nextDue[property.name] ?? .distantFuture) > confirmAt { s.nextDue[property.name] = confirmAt }
            }
            wake.signal()
            logger.info("state not confirmed; confirmation probe scheduled", metadata: meta)
        }
        if let decision = recorded.quorum { metrics.quorum(property.name, decision, advisory: recorded.advisory) }
        if let advisory = recorded.advisory {
            var advised = meta
            advised["location"] = "\(advisory.location)"
            advised["location.sees"] = "\(advisory.sees.rawValue)"
            advised["quorum.failing"] = .stringConvertible(advisory.decision.failing.count)
            advised["quorum.live"] = .stringConvertible(advisory.decision.live.count)
            advised["quorum.required"] = .stringConvertible(advisory.decision.required)
            logger.notice(
                advisory.kind == .failingAlone ? "location failing alone, below quorum" : "location advisory cleared",
                metadata: advised
            )
            outbox.signal.signal()
        }
        guard let transition = recorded.transition else { return true }
        metrics.transition(property.name, to: transition.to)
        if let openCount = try? await store.openIncidentCount() { metrics.openIncidents(openCount) }
        meta["transition.from"] = "\(transition.from.rawValue)"
        meta["transition.to"] = "\(transition.to.rawValue)"
        if let incident = recorded.incident { meta["incident.id"] = .stringConvertible(incident.id) }
        meta["silenced"] = .stringConvertible(recorded.silenced)
        logger.notice("state transition", metadata: meta)
        if recorded.outboxID != nil { outbox.signal.signal() }
        // A property that joined its host and service's open incident shares that incident's remediation.
        if transition.to == .down, !recorded.silenced, !recorded.joinedOpenIncident, let incident = recorded.incident,
            incident.closedAt == nil, !replayed
        {
            enqueueResponse(
                property: property,
                incidentID: incident.id,
                transition: transition,
                result: result,
                resumed: false
            )
        }
        return true
    }

    /// The certificate-expiry warning, its own state: queued when the certificate is within the property's
    /// window and was not warned about in the last day (held while silenced), and an all-clear once it is
    /// renewed. Needs a store with `CertificateWarningStorage`.
    private func noteCertificate(_ result: ProbeResult, silenced: Bool) async {
        guard let certificates = store as? any CertificateWarningStorage, let certificate = result.certificate else {
            return
        }
        var meta: Logger.Metadata = [
            "probe.property": "\(result.property)", "certificate.days_left": .stringConvertible(certificate.daysLeft),
            "certificate.not_after": "\(certificate.notAfter)",
        ]
        do {
            let queued: Int64?
            if certificate.state == .expiring {
                guard !silenced else { return }
                queued = try await certificates.warnCertificate(
                    property: result.property,
                    notAfter: certificate.notAfter,
                    now: result.at,
                    every: 86_400,
                    message: AlertFormatter.certificateExpiring(result, certificate, at: result.at)
                )
                if queued != nil { logger.notice("certificate expiring; warning queued", metadata: meta) }
            } else {
                queued = try await certificates.clearCertificateWarning(
                    property: result.property,
                    now: result.at,
                    message: AlertFormatter.certificateRenewed(result, certificate, at: result.at)
                )
                if queued != nil { logger.notice("certificate renewed", metadata: meta) }
            }
            if queued != nil { outbox.signal.signal() }
        } catch {
            meta["error"] = "\(error)"
            logger.error("cannot record the certificate warning", metadata: meta)
        }
    }

    /// The debounce thresholds of `property`: its own where it sets them, else the global ones.
    func policy(for property: PropertyConfig) -> Debounce.Policy {
        let own = property.schedule
        let config = self.config
        return Debounce.Policy(
            failureThreshold: own.failureThreshold ?? config.failureThreshold,
            successThreshold: own.successThreshold ?? config.successThreshold,
            confirmationDelay: own.confirmationDelay.map { $0 == .zero ? nil : $0 } ?? config.confirmationDelay
        )
    }

    func enqueueResponse(
        property: PropertyConfig,
        incidentID: IncidentID,
        transition: Transition,
        result: ProbeResult,
        resumed: Bool
    ) {
        guard !property.alertOnly, let hostName = property.host, let host = config.hosts[hostName] else { return }
        var context = IncidentContext(
            incidentID: incidentID,
            property: property,
            host: host,
            transition: transition,
            result: result,
            resumed: resumed,
            reprobe: { [self] name in await self.reprobe(property: name) },
            outbox: outbox,
            store: store,
            alertUserID: config.secrets.discordAlertUserID,
            maxRemediationRounds: config.secrets.maxRemediationRounds,
            transport: transport,
            metrics: metrics
        )
        context.leaseDuration = config.store.remediationLease.timeInterval
        responseQueue.yield(context)
    }

    /// Runs the responder for an incident under its remediation lease: only the instance holding the lease
    /// remediates; a remediation that ran to its end is marked complete, never taken over.
    private func respond(_ context: IncidentContext) async {
        let first = schedule.withLock { $0.responding.insert(context.incidentID).inserted }
        guard first else { return }
        defer { _ = schedule.withLock { $0.responding.remove(context.incidentID) } }
        var context = context
        let meta: Logger.Metadata = [
            "incident.id": "\(context.incidentID)", "lease.holder": "\(config.store.location)",
        ]
        do {
            guard
                let lease = try await store.acquireLease(
                    incidentID: context.incidentID,
                    holder: config.store.location,
                    now: now(),
                    duration: context.leaseDuration
                )
            else {
                logger.debug("remediation held by another location, or done", metadata: meta)
                return
            }
            context.lease = lease
            if lease.token > 1 { logger.notice("remediation taken over", metadata: meta) }
        } catch {
            var failed = meta
            failed["error"] = "\(error)"
            logger.error("cannot take the remediation lease; not remediating", metadata: failed)
            return
        }
        let outages = storeHealth.outages
        await responder.incidentOpened(context)
        guard !Task.isCancelled, let lease = context.lease else { return }
        // A run the store's outage cut short (its journal write failed) is not done: its lease is left to expire
        // (or renewed by this instance's next takeover pass) and the journal resumes it.
        guard storeHealth.outages == outages, storeHealth.isReachable else {
            logger.warning("remediation cut short by a store outage; resumed from its journal later", metadata: meta)
            return
        }
        try? await store.completeLease(lease)
    }

    /// Once per lease period, offers every open, down incident to `respond`: an incident whose remediator died
    /// (its lease expired) is taken over and resumed from its journal; the others are left to their holder.
    private func takeOverExpiredRemediations(now: Date) async {
        let due = schedule.withLock { s in
            guard now >= s.nextTakeover else { return false }
            s.nextTakeover = now.addingTimeInterval(
                min(config.store.remediationLease.timeInterval, config.interval.timeInterval)
            )
            return true
        }
        if due { await resumeOpenIncidents() }
    }

    private func resumeOpenIncidents() async {
        for property in config.properties where !property.alertOnly && property.host != nil {
            guard storeHealth.isReachable else { return }
            guard let state = try? await store.state(of: property.name), state.health == .down,
                !state.isSilenced(at: now()), let id = state.openIncidentID, let result = state.lastResult
            else { continue }
            enqueueResponse(
                property: property,
                incidentID: id,
                transition: Transition(from: .healthy, to: .down),
                result: result,
                resumed: true
            )
        }
    }

    // MARK: Control

    /// Silences a property until `until`: probes continue and state is tracked; alerts and remediation pause.
    /// When the silence ends with a state different from the last one announced, that state is announced.
    public func silence(_ name: String, until: Date) async throws {
        try await store.silence(name, until: until, now: now())
        schedule.withLock { $0.silences[name] = until }
        logger.notice("property silenced", metadata: ["probe.property": "\(name)", "silence.until": "\(until)"])
    }

    public func unsilence(_ name: String) async {
        await endSilence(name, now: now(), force: true)
    }

    /// Status of every configured property.
    public func status() async throws -> StatusReport {
        let states: [String: PropertyState]
        do {
            states = Dictionary(try await store.allStates().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        } catch is StoreUnavailable {
            return unreachableStoreStatus()
        }
        let at = now()
        let maintenance = schedule.withLock { $0.maintenance }
        let fleet = try await fleetStatus(at: at)
        var properties: [StatusReport.PropertyStatus] = []
        for property in config.properties {
            let state = states[property.name]
            var incident: Incident?
            if let id = state?.openIncidentID { incident = try await store.incident(id: id) }
            properties.append(
                StatusReport.PropertyStatus(
                    name: property.name,
                    url: property.url,
                    state: state?.health,
                    alertOnly: property.alertOnly,
                    host: property.host,
                    silencedUntil: state?.silencedUntil.flatMap { $0 > at ? $0 : nil },
                    lastResult: state?.lastResult,
                    openIncident: incident,
                    maintenance: maintenance[property.name].flatMap { $0.until > at ? $0 : nil },
                    locations: fleet.map { $0.views[property.name] ?? [] }
                )
            )
        }
        return StatusReport(
            generatedAt: at,
            configGeneration: configGeneration,
            pager: pager.report,
            store: storeHealth.report,
            properties: properties,
            locations: fleet?.locations
        )
    }
}
