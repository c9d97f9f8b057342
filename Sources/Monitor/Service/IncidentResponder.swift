import Foundation

// MARK: - The seam for remediation (issue 5)
//
// `MonitorService` calls `IncidentResponder.incidentOpened(_:)` when a property that is NOT alert-only and has
// a `host` becomes confirmed DOWN and is not silenced: when its incident opens as down, when it escalates from
// degraded to down, when a silence ends while it is still down, and once at service start for each incident
// still open and down (with `resumed == true`, so a restart can continue work recorded in `incident_events`
// instead of repeating it). Calls run in the service's own task group; at most one runs per incident at a time.
//
// The context carries everything a responder needs:
// - `reprober.reprobe(property:)` probes the property now AND records the result through the debounce state
//   machine, so a healthy re-probe closes the incident and announces the recovery;
// - `outbox.enqueue(_:kind:incidentID:)` queues any Discord message durably (remediation progress);
// - `outbox.page(incidentID:message:)` pages the on-call user at most once per incident, ever;
// - `store.appendIncidentEvent(incidentID:kind:payload:)` records each decision on the incident.
//
// The default responder does nothing. To plug one in, pass `makeResponder:` to `MonitorRuntime` (the executable
// does so in `ZumikMonitor.swift`); it receives the shared store (`store.pool` for a journal in the same SQLite
// file; `MonitorStore.enqueue(in:payload:kind:incidentID:)` writes a Discord message inside the journal's own
// transaction), the outbox, the curl transport and the configuration (`config.remediation` holds the raw
// `remediation:` YAML subtree).

/// What a responder is told about an incident.
public struct IncidentContext: Sendable {
    public var incidentID: Int64
    public var property: PropertyConfig
    /// The ops-agent host serving the property (URL/token may be nil when the environment lacks them).
    public var host: HostConfig
    public var transition: Transition
    public var result: ProbeResult
    /// True when called at service start for an incident that was already open.
    public var resumed: Bool
    public var reprober: any PropertyReprober
    public var outbox: AlertOutbox
    public var store: MonitorStore
    /// `DISCORD_ALERT_USER_ID`, to page.
    public var alertUserID: String?
    public var maxRemediationRounds: Int
    public var transport: any HTTPTransport

    public init(
        incidentID: Int64,
        property: PropertyConfig,
        host: HostConfig,
        transition: Transition,
        result: ProbeResult,
        resumed: Bool,
        reprober: any PropertyReprober,
        outbox: AlertOutbox,
        store: MonitorStore,
        alertUserID: String?,
        maxRemediationRounds: Int,
        transport: any HTTPTransport
    ) {
        self.incidentID = incidentID
        self.property = property
        self.host = host
        self.transition = transition
        self.result = result
        self.resumed = resumed
        self.reprober = reprober
        self.outbox = outbox
        self.store = store
        self.alertUserID = alertUserID
        self.maxRemediationRounds = maxRemediationRounds
        self.transport = transport
    }
}

/// Reacts to confirmed-down incidents of remediable properties (issue 5 implements it).
public protocol IncidentResponder: Sendable {
    func incidentOpened(_ context: IncidentContext) async
}

/// The default: alerts only, no remediation.
public struct NoIncidentResponder: IncidentResponder {
    public init() {}
    public func incidentOpened(_ context: IncidentContext) async {}
}

/// Probe a property now and record the result (state machine, incident, alert).
public protocol PropertyReprober: Sendable {
    /// Nil when no property has that name.
    func reprobe(property: String) async -> ProbeResult?
}
