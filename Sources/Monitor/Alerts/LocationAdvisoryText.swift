import Foundation
import Probing

/// The advisory of a location failing alone (below quorum), and its clearing: blue, no mention, never a page.
extension AlertFormatter {
    static func advisory(_ advisory: LocationAdvisory, _ event: AlertEvent) -> DiscordMessage {
        let result = event.result
        let decision = advisory.decision
        let title: String
        var fields: [DiscordMessage.Field]
        switch advisory.kind {
        case .failingAlone:
            title =
                "\(result.property): \(advisory.location) sees it \(advisory.sees.rawValue.uppercased()) (below quorum)"
            fields = [
                .init("Location", advisory.location, inline: true),
                .init("Since", advisory.since.formatted(.iso8601), inline: true),
                .init(
                    "Quorum",
                    "\(decision.failing.count) of \(decision.live.count) live locations fail; \(decision.required) needed",
                    inline: true
                ),
                .init("Sees", result.reasons.isEmpty ? advisory.sees.rawValue : result.reasons.joined(separator: "\n")),
            ]
        case .cleared:
            title = "\(result.property): \(advisory.location) sees it healthy again"
            fields = [.init("Location", advisory.location, inline: true)]
        }
        let embed = DiscordMessage.Embed(
            title: title,
            description: DiscordText.cut(result.url, to: 1024),
            url: nil,
            color: blue,
            timestamp: event.at,
            fields: fields,
            footer: "zumik-monitor · advisory: no incident, no page"
        )
        return DiscordMessage(embeds: [embed])
    }
}
