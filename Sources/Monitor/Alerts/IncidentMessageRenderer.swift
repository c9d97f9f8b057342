import ActionKit
public import Foundation
import Probing

/// Renders an incident's living Discord message from its records, each time it is sent: the state, the
/// members (properties whose transitions the incident holds), a timeline (transitions, every remediation
/// notice: diagnostics and actions with reason, result and audit id, re-probes with timings, the path
/// taken, the page) and the outcome. The timeline is folded to fit one embed: the first step, "… N more
/// steps …", then the newest steps that fit, so narration is capped by construction.
public enum IncidentMessageRenderer {
    public static func message(incident: Incident, events: [IncidentEvent], now: Date = Date()) -> DiscordMessage {
        let closed = incident.closedAt != nil
        let members = memberStates(events)
        let transitions = events.filter { $0.kind == "transition" }
        // What the first alert said about the failure (status, latency, why), from the newest bad transition.
        let failure = transitions.last { $0.payload["to"]?.stringValue != Health.healthy.rawValue }?.payload
        let duration = (incident.closedAt ?? now).timeIntervalSince(incident.openedAt)
        let title =
            closed
            ? "\(incident.property) recovered after \(AlertFormatter.formatDuration(duration))"
            : "\(incident.property) is \(incident.health.rawValue.uppercased())"
        let last = transitions.last?.payload
        var fields: [DiscordMessage.Field] = [
            .init(
                "State",
                "\(last?["from"]?.stringValue ?? "?") → \(last?["to"]?.stringValue ?? incident.health.rawValue)",
                inline: true
            ),
            .init("Status", failure?["status"]?.numberText ?? "no response", inline: true),
            .init("Incident", "#\(incident.id)", inline: true),
        ]
        if let latency = failure?["latency"]?.stringValue { fields.append(.init("Latency", latency)) }
        if let why = failure?["reasons"]?.arrayValue?.compactMap(\.stringValue), !why.isEmpty {
            fields.append(.init("Why", why.joined(separator: "\n")))
        }
        fields.append(.init("Outcome", outcome(incident, events), inline: true))
        if let path = path(events) { fields.append(.init("Path", path, inline: true)) }
        fields.append(.init(closed ? "Duration" : "Open for", AlertFormatter.formatDuration(duration), inline: true))
        if members.count > 1 {
            fields.append(.init("Properties", members.map { "\($0.name): \($0.health)" }.joined(separator: "\n")))
        }
        let url = DiscordText.cut(failure?["url"]?.stringValue ?? "", to: 512)
        let embed = DiscordMessage.Embed(
            title: title,
            description: url + "\n\n" + fold(timeline(events), limit: DiscordText.descriptionLimit - 600),
            color: closed ? AlertFormatter.green : AlertFormatter.color(incident.health),
            timestamp: incident.openedAt,
            fields: fields,
            footer: "zumik-monitor · this message is edited as the incident proceeds"
        )
        return DiscordMessage(embeds: [embed])
    }

    /// One line per step, oldest first.
    static func timeline(_ events: [IncidentEvent]) -> [String] {
        var lines: [String] = []
        var auditID: String?
        for event in events {
            let payload = event.payload
            if let id = payload["audit_id"]?.stringValue { auditID = id }
            var text: String
            if let notice = event.notice {
                text = DiscordMessage.plainText(ofPayload: notice) ?? notice
                text = withoutMention(text)
                if let id = auditID, !text.contains(id) {
                    text += " (audit \(id))"
                    auditID = nil
                }
            } else if event.kind == "transition" {
                let property = payload["property"]?.stringValue.map { "**\($0)** " } ?? ""
                let from = payload["from"]?.stringValue ?? "?"
                let to = payload["to"]?.stringValue ?? "?"
                let reasons = payload["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
                text = "\(property)\(from) → \(to)" + (reasons.first.map { ": \(DiscordText.cut($0, to: 300))" } ?? "")
            } else {
                continue
            }
            lines.append("`\(clock(event.at))` " + text.replacingOccurrences(of: "\n", with: " "))
        }
        return lines
    }

    /// The lines joined, folded to `limit` scalars: the first line, a fold, then the newest lines that fit.
    static func fold(_ lines: [String], limit: Int) -> String {
        let all = lines.joined(separator: "\n")
        guard DiscordText.length(all) > limit, let first = lines.first else { return all.isEmpty ? "-" : all }
        let head = DiscordText.cut(first, to: limit / 4)
        var tail: [String] = []
        var room = limit - DiscordText.length(head) - 40
        for line in lines.dropFirst().reversed() {
            let cost = DiscordText.length(line) + 1
            guard cost <= room else { break }
            tail.insert(line, at: 0)
            room -= cost
        }
        let folded = lines.count - 1 - tail.count
        return ([head, "… \(folded) more steps (kept in the incident's records) …"] + tail).joined(separator: "\n")
    }

    static func outcome(_ incident: Incident, _ events: [IncidentEvent]) -> String {
        let healed = events.contains { $0.kind == "remediation.healed" }
        if incident.closedAt != nil { return healed ? "healed by automation" : "recovered" }
        if incident.pagedAt != nil { return "paged the on-call human" }
        if events.contains(where: { $0.kind.hasPrefix("remediation.") }) { return "automation at work" }
        return "watching"
    }

    static func path(_ events: [IncidentEvent]) -> String? {
        events.reversed().lazy.compactMap { $0.payload["path"]?.stringValue }.first
    }

    /// Each member property's latest state, in the order they joined.
    static func memberStates(_ events: [IncidentEvent]) -> [(name: String, health: String)] {
        var order: [String] = []
        var health: [String: String] = [:]
        for event in events where event.kind == "transition" {
            guard let name = event.payload["property"]?.stringValue else { continue }
            if health[name] == nil { order.append(name) }
            health[name] = event.payload["to"]?.stringValue ?? "?"
        }
        return order.map { ($0, health[$0] ?? "?") }
    }

    /// A page's text without its `<@id>` mention (the living message pings nobody anyway).
    static func withoutMention(_ text: String) -> String {
        guard text.hasPrefix("<@"), let end = text.firstIndex(of: ">") else { return text }
        return String(text[text.index(after: end)...]).trimmingCharacters(in: .whitespaces)
    }

    static func clock(_ date: Date) -> String {
        date.formatted(.iso8601.time(includingFractionalSeconds: false))
    }
}

extension JSONValue {
    fileprivate subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    fileprivate var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }

    fileprivate var numberText: String? {
        if case .number(let value) = self { String(Int(value)) } else { nil }
    }

    fileprivate var arrayValue: [JSONValue]? {
        if case .array(let items) = self { items } else { nil }
    }
}

extension AlertFormatter {
    /// What a transition queues: with `editMessages`, the incident's living message (rendered and created or
    /// edited by the sender) and a post of its own only for the recovery that resolves the incident; without,
    /// one post per transition.
    public static func transitionMessage(editMessages: Bool) -> @Sendable (AlertEvent) -> any OutboxMessage {
        guard editMessages else { return { message(for: $0) } }
        return { event in
            // The recovery that resolves the incident (its last property) is posted; the rest are edits. A
            // location's advisory belongs to no incident: always a post of its own.
            event.advisory != nil || (event.transition.kind == .recovered && event.incident?.closedAt != nil)
                ? message(for: event) : IncidentMessageRender()
        }
    }
}
