public import Foundation
public import Probing

/// Turns a transition into a Discord embed: colour by state, property, URL, status, latency breakdown, error,
/// incident id, and the incident's duration on recovery. Probe text (errors, reasons) goes only into embed
/// fields; `allowed_mentions` is `{"parse": []}`, so nothing in it can ping anyone.
public enum AlertFormatter {
    public static let green = 0x2ECC71
    public static let amber = 0xF1C40F
    public static let red = 0xE74C3C
    public static let blue = 0x3498DB

    public static func color(_ health: Health) -> Int {
        switch health {
        case .healthy: green
        case .degraded: amber
        case .down: red
        }
    }

    public static func message(for event: AlertEvent) -> DiscordMessage {
        if let advisory = event.advisory { return Self.advisory(advisory, event) }
        let result = event.result
        let t = event.transition
        let title: String
        switch t.kind {
        case .opened: title = "\(result.property) is \(t.to.rawValue.uppercased())"
        case .escalated: title = "\(result.property) is DOWN (was degraded)"
        case .deescalated: title = "\(result.property) is DEGRADED (was down)"
        case .recovered: title = "\(result.property) recovered (was \(t.from.rawValue))"
        }
        var fields: [DiscordMessage.Field] = [
            .init("State", "\(t.from.rawValue) → \(t.to.rawValue)", inline: true),
            .init("Status", result.status.map(String.init) ?? "no response", inline: true),
        ]
        if let incident = event.incident {
            fields.append(.init("Incident", "#\(incident.id)", inline: true))
        }
        fields.append(.init("Latency", latency(result.timings)))
        if !result.reasons.isEmpty {
            fields.append(.init("Why", result.reasons.joined(separator: "\n")))
        }
        if let error = result.error {
            // The message itself is already in "Why"; here only what identifies the failure class.
            fields.append(.init("Error", "curl \(error.curlCode) (\(error.kind.rawValue))", inline: true))
        }
        if t.kind == .recovered, let duration = event.incident?.duration {
            fields.append(.init("Duration", formatDuration(duration), inline: true))
        }
        if let note = event.note {
            fields.append(.init("Note", note))
        }
        let embed = DiscordMessage.Embed(
            title: title,
            description: DiscordText.cut(result.url, to: 1024),
            url: nil,
            color: color(t.to),
            timestamp: event.at,
            fields: fields,
            footer: "zumik-monitor"
        )
        return DiscordMessage(embeds: [embed])
    }

    /// A reminder that a paged incident is still unresolved: a post of its own, mentioning nobody.
    public static func reminder(for incident: Incident, at now: Date) -> DiscordMessage {
        let paged = incident.pagedAt.map { " paged \(formatDuration(now.timeIntervalSince($0))) ago," } ?? ""
        return DiscordMessage(
            content: "⏰ Reminder: **\(incident.property)** is still \(incident.health.rawValue) — incident "
                + "#\(incident.id),\(paged) open for \(formatDuration(now.timeIntervalSince(incident.openedAt))).",
            allowedMentions: .none
        )
    }

    /// The phase timings of a probe, as the alerts show them.
    public static func latency(_ tm: PhaseTimings) -> String {
        "dns \(ms(tm.dnsMs)) · connect \(ms(tm.connectMs)) · tls \(ms(tm.tlsMs)) · first byte \(ms(tm.firstByteMs)) · total \(ms(tm.totalMs))"
    }

    static func ms(_ value: Double) -> String { "\(Int(value.rounded())) ms" }

    public static func formatDuration(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        let h = total / 3600
        let m = (total % 3600) / 60
        let s = total % 60
        if h > 0 { return "\(h)h \(m)m \(s)s" }
        if m > 0 { return "\(m)m \(s)s" }
        return "\(s)s"
    }
}
