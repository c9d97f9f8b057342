import ActionKit
import Foundation
public import Logging
public import Monitor

/// A confirmed-down property handed to remediation.
public struct RemediationIncident: Sendable, Hashable {
    /// The incident's id in the state store; the journal is keyed by it.
    public var id: IncidentID
    /// The property's name (e.g. `api.zumik.ai/healthz`).
    public var property: String
    public var url: String
    /// The service that serves it; only actions whose `targets` include it are offered.
    public var service: String
    /// The ops-agent host that serves it.
    public var host: String
    /// What the probe saw (status, error); shown to the model and in Discord.
    public var symptom: String

    public init(id: IncidentID, property: String, url: String, service: String, host: String, symptom: String) {
        self.id = id
        self.property = property
        self.url = url
        self.service = service
        self.host = host
        self.symptom = symptom
    }
}

/// The result of probing a property again.
public struct ProbeVerdict: Sendable, Hashable {
    public var healthy: Bool
    /// Short text, e.g. `healthy (HTTP 200, 41 ms)` or `down (connect refused)`.
    public var summary: String

    public init(healthy: Bool, summary: String) {
        self.healthy = healthy
        self.summary = summary
    }
}

/// Probes one property once more, out of the normal cycle.
public protocol RemediationProber: Sendable {
    func reprobe(_ incident: RemediationIncident) async -> ProbeVerdict
}

public enum RemediationOutcome: Sendable, Hashable {
    /// Healthy after a remediation.
    case healed(path: RemediationPath, rounds: Int)
    /// Healthy before anything ran (after waiting for the host, or on resume).
    case recoveredWithoutAction
    /// Automation gave up (or could not start) and the human was paged.
    case paged(reason: String)
    /// The journal says the incident was already paged: nothing more is done.
    case alreadyPaged
    /// Nothing was done and nobody was paged (journal unavailable, or cancelled by shutdown).
    case abandoned(String)
}

extension RemediationOutcome: CustomStringConvertible {
    /// Plain text, as logs show it (`healed (ladder path, 1 round(s))`), never Swift's debug form.
    public var description: String {
        switch self {
        case .healed(let path, let rounds): "healed (\(path.rawValue) path, \(rounds) round(s))"
        case .recoveredWithoutAction: "recovered without action"
        case .paged(let reason): "paged: \(reason)"
        case .alreadyPaged: "already paged"
        case .abandoned(let why): "abandoned: \(why)"
        }
    }
}

/// Limits and settings of the engine (config `remediation.*`, env `MAX_REMEDIATION_ROUNDS`,
/// `DISCORD_ALERT_USER_ID`).
public struct RemediationPolicy: Sendable {
    /// Remediation rounds per incident; leash violations spend rounds too. Default 3; 0 is observe-only: alert
    /// and page, never act (no agent call, no model call).
    public var maxRounds: Int
    /// Hard cap on model calls per incident, so diagnostics cannot loop. Default 10.
    public var maxModelTurns: Int
    /// Wait after a remediation before the re-probe.
    public var settle: Duration
    /// Bytes of command output digest (``OutputDigest``) a tool message may carry between the frame tags.
    public var toolOutputBudget: Int
    /// The on-call user to @mention on a page; without it the page goes out without a mention.
    public var alertUserID: String?

    public init(
        maxRounds: Int = 3,
        maxModelTurns: Int = 10,
        settle: Duration = .seconds(20),
        toolOutputBudget: Int = 1200,
        alertUserID: String? = nil
    ) {
        self.maxRounds = max(0, maxRounds)
        self.maxModelTurns = max(1, maxModelTurns)
        self.settle = settle
        self.toolOutputBudget = max(256, toolOutputBudget)
        self.alertUserID = alertUserID
    }
}

/// Heals a down property through its host's ops-agent, on a leash enforced here, in code:
/// only offered tools run, arguments are checked, every refused call spends a round, the
/// budget ends the loop, one remediation runs per host at a time, and every step is journaled
/// before the next so that a restart resumes without repeating work or paging twice.
public final class RemediationEngine<C: Clock>: Sendable where C.Duration == Duration {
    let policy: RemediationPolicy
    let agents: [String: AgentClient]
    let model: (any RemediationModel)?
    let journal: any RemediationJournal
    let prober: any RemediationProber
    let clock: C
    let logger: Logger
    let hosts: HostLeash

    /// - Parameters:
    ///   - agents: the ops-agent client for each host name.
    ///   - model: `nil` without `SEPARATE_OPENAI_KEY`: the ladder is used.
    public convenience init(
        policy: RemediationPolicy,
        agents: [String: AgentClient],
        model: (any RemediationModel)?,
        journal: any RemediationJournal,
        prober: any RemediationProber,
        clock: C,
        logger: Logger
    ) {
        self.init(
            policy: policy,
            agents: agents,
            model: model,
            journal: journal,
            prober: prober,
            clock: clock,
            logger: logger,
            hosts: HostLeash()
        )
    }

    /// `hosts` is shared by engines built per incident, so the one-per-host rule spans them all.
    init(
        policy: RemediationPolicy,
        agents: [String: AgentClient],
        model: (any RemediationModel)?,
        journal: any RemediationJournal,
        prober: any RemediationProber,
        clock: C,
        logger: Logger,
        hosts: HostLeash
    ) {
        self.hosts = hosts
        self.policy = policy
        self.agents = agents
        self.model = model
        self.journal = journal
        self.prober = prober
        self.clock = clock
        self.logger = logger
    }

    /// Runs (or resumes) automation for the incident until healed or paged. Incidents on the same
    /// host wait for each other.
    public func respond(to incident: RemediationIncident) async -> RemediationOutcome {
        let waited = await hosts.acquire(incident.host)
        var logger = self.logger
        logger[metadataKey: "incident.id"] = "\(incident.id)"
        logger[metadataKey: "probe.property"] = "\(incident.property)"
        var run = IncidentRun(engine: self, incident: incident, logger: logger)
        let outcome = await run.execute(waited: waited)
        await hosts.release(incident.host)
        return outcome
    }
}

/// One host at a time: later incidents queue in order.
actor HostLeash {
    private var busy: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// `true` when the caller had to wait for another incident on the host.
    func acquire(_ host: String) async -> Bool {
        guard busy.contains(host) else {
            busy.insert(host)
            return false
        }
        await withCheckedContinuation { waiters[host, default: []].append($0) }
        return true
    }

    func release(_ host: String) {
        if var queue = waiters[host], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[host] = queue
            next.resume()
        } else {
            busy.remove(host)
        }
    }
}
