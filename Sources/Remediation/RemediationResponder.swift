import ActionKit
import Foundation
public import Logging
public import Monitor
import Probing

/// The monitor's `IncidentResponder` for issue 5: builds the engine's parts from the incident context
/// (the store as journal, the outbox for notices and the page, the reprober, the monitor's transport) and
/// runs the engine. One instance serves the whole monitor, so its host leash spans all incidents.
public struct RemediationResponder: IncidentResponder {
    let settings: RemediationSettings
    let openAIKey: Secret?
    let logger: Logger
    let hosts = HostLeash()

    public init(settings: RemediationSettings, openAIKey: Secret?, logger: Logger) {
        self.settings = settings
        self.openAIKey = openAIKey
        self.logger = logger
    }

    public func incidentOpened(_ context: IncidentContext) async {
        let transport = context.transport
        var agents: [String: AgentClient] = [:]
        if let url = context.host.url, let token = context.host.token {
            agents[context.host.name] = AgentClient(
                configuration: .init(baseURL: url, token: token.value),
                transport: transport
            )
        }
        let model = openAIKey.map { key in
            ChatCompletionsClient(
                configuration: .init(
                    baseURL: settings.baseURL,
                    model: settings.model,
                    apiKey: key.value,
                    maxCompletionTokens: settings.maxCompletionTokens,
                    timeout: settings.modelTimeout
                ),
                transport: transport
            )
        }
        let engine = RemediationEngine(
            policy: RemediationPolicy(
                maxRounds: context.maxRemediationRounds,
                maxModelTurns: settings.maxModelTurns,
                settle: settings.settle,
                alertUserID: context.alertUserID
            ),
            agents: agents,
            model: model,
            journal: StorageJournal(
                store: context.store,
                outbox: context.outbox,
                lease: context.lease,
                leaseDuration: context.leaseDuration,
                metrics: context.metrics,
                property: context.property.name
            ),
            prober: ContextReprober(reprobe: context.reprobe),
            clock: ContinuousClock(),
            logger: logger,
            hosts: hosts
        )
        let result = context.result
        var symptom = result.reasons.joined(separator: "; ")
        if symptom.isEmpty { symptom = result.status.map { "HTTP \($0)" } ?? result.error?.description ?? "down" }
        let incident = RemediationIncident(
            id: context.incidentID,
            property: context.property.name,
            url: context.property.url,
            service: context.property.service ?? context.property.name,
            host: context.host.name,
            symptom: symptom
        )
        let outcome = await engine.respond(to: incident)
        logger.info(
            "remediation finished",
            metadata: ["incident.id": "\(context.incidentID)", "remediation.outcome": "\(outcome)"]
        )
    }
}

/// Re-probes through the monitor, which records the result (a healthy one closes the incident).
struct ContextReprober: RemediationProber {
    let reprobe: IncidentContext.Reprobe

    func reprobe(_ incident: RemediationIncident) async -> ProbeVerdict {
        guard let result = await reprobe(incident.property) else {
            return ProbeVerdict(healthy: false, summary: "unknown property \(incident.property)")
        }
        var summary = result.health.rawValue
        if let status = result.status { summary += " (HTTP \(status), \(Int(result.timings.totalMs)) ms)" }
        if !result.reasons.isEmpty { summary += ": " + result.reasons.joined(separator: "; ") }
        return ProbeVerdict(healthy: result.health == .healthy, summary: summary)
    }
}
