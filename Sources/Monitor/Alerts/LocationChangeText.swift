import Foundation

/// A location leaving the quorum (silent) or rejoining it: one plain post each way for the whole fleet, no
/// mention, never an incident or a page.
extension AlertFormatter {
    public static func locationChange(_ change: LocationChange) -> DiscordMessage {
        let since = change.silentSince.formatted(.iso8601)
        let content: String
        switch change.kind {
        case .silent:
            content =
                "📡 Location **\(change.location)** silent since \(since), leaves the quorum: "
                + "\(change.live) of \(change.known) locations live."
        case .returned:
            content =
                "📡 Location **\(change.location)** is back (silent since \(since), "
                + "\(formatDuration(change.at.timeIntervalSince(change.silentSince)))), rejoins the quorum: "
                + "\(change.live) of \(change.known) locations live."
        }
        return DiscordMessage(content: content, allowedMentions: .none)
    }
}
