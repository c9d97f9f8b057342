public import Foundation
public import Probing

// MARK: - The seam for remediation
//
// `MonitorService` calls `IncidentResponder.incidentOpened(_:)` when a property that is NOT alert-only and has
// a `host` becomes confirmed DOWN and is not silenced: when its incident opens as down, when it escalates from
// degraded to down, when a silence ends while it is still down, and once at service start for each incident
// still open and down (with `resumed == true`, so a restart can continue work recorded on the incident
// instead of repeating it). Calls run in the service's own task group; at most one runs per incident at a time.
//
// The context carries everything a responder needs, as capabilities rather than the service itself:
// - `reprobe(property)` probes the property now AND records the result through the debounce state machine,
//   so a healthy re-probe closes the incident and announces the recovery;
// - `store` (`MonitorStorage`) records each decision on the incident, queueing its message and the one page
//   in the same transaction (`appendIncidentEvent`, `pageOnce`); `outbox.wake()` then wakes the sender;
// - `transport` is the monitor's one HTTP engine.
//
// The default responder does nothing; the executable passes the Remediation module's `RemediationResponder`.

/// What a responder is told about an incident.
public struct IncidentContext: Sendable {
    /// The remediation lease this instance holds for the incident (nil: no fencing, e.g. in tests that call a
    /// responder directly); journal writes before actions are fenced with it and renew it for `leaseDuration`.
    public var lease: RemediationLease? = nil
    public var leaseDuration: TimeInterval = 120
    public var incidentID: IncidentID
    public var property: PropertyConfig
    /// The ops-agent host serving the property (URL/token may be nil when the environment lacks them).
    public var host: HostConfig
    public var transition: Transition
    public var result: ProbeResult
    /// True when called at service start for an incident that was already open.
    public var resumed: Bool
    public var reprobe: Reprobe
    public var outbox: AlertOutbox
    public var store: any MonitorStorage
    /// `DISCORD_ALERT_USER_ID`, to page.
    public var alertUserID: String?
    public var maxRemediationRounds: Int
    public var transport: any HTTPTransport
    /// Where remediation counts its rounds, actions and pages.
    public var metrics: MonitorMetrics

    public init(
        incidentID: IncidentID,
        property: PropertyConfig,
        host: HostConfig,
        transition: Transition,
        result: ProbeResult,
        resumed: Bool,
        reprobe: @escaping Reprobe,
        outbox: AlertOutbox,
        store: any MonitorStorage,
        alertUserID: String?,
        maxRemediationRounds: Int,
        transport: any HTTPTransport,
        metrics: MonitorMetrics = MonitorMetrics()
    ) {
        self.incidentID = incidentID
        self.property = property
        self.host = host
        self.transition = transition
        self.result = result
        self.resumed = resumed
        self.reprobe = reprobe
        self.outbox = outbox
        self.store = store
        self.alertUserID = alertUserID
        self.maxRemediationRounds = maxRemediationRounds
        self.transport = transport
        self.metrics = metrics
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

extension IncidentContext {
    /// Probes the named property now and records the result (state machine, incident, alert); nil when no
    /// property has that name.
    public typealias Reprobe = @Sendable (_ property: String) async -> ProbeResult?
}
