public import Foundation

/// The two messages of a store outage (`StoreOutageNotifier`): amber "monitoring degraded" when this location
/// cannot reach its store, green "monitoring restored" when it can again. No mention, never a page; never the
/// connection string (the error is a fixed phrase).
extension AlertFormatter {
    public static func storeUnreachable(location: String, backend: String, since: Date, error: String)
        -> DiscordMessage
    {
        let embed = DiscordMessage.Embed(
            title: "Monitoring degraded: \(location) cannot reach its store",
            description: "Probes go on from \(location); their results are kept in memory and recorded when the "
                + "store answers again. Nothing is remediated meanwhile, and alerts wait in the store's outbox.",
            color: amber,
            timestamp: since,
            fields: [
                .init("Location", location, inline: true),
                .init("Store", backend, inline: true),
                .init("Since", since.formatted(.iso8601), inline: true),
                .init("Error", error),
            ],
            footer: "zumik-monitor · one message per outage and location"
        )
        return DiscordMessage(embeds: [embed])
    }

    public static func storeRestored(location: String, since: Date, at: Date) -> DiscordMessage {
        let seconds = max(0, Int(at.timeIntervalSince(since)))
        let embed = DiscordMessage.Embed(
            title: "Monitoring restored: \(location) reaches its store again",
            description: "Results kept during the outage are recorded; remediation resumes from the journal.",
            color: green,
            timestamp: at,
            fields: [
                .init("Location", location, inline: true),
                .init("Unreachable since", since.formatted(.iso8601), inline: true),
                .init("For", seconds >= 120 ? "\(seconds / 60) min" : "\(seconds) s", inline: true),
            ],
            footer: "zumik-monitor"
        )
        return DiscordMessage(embeds: [embed])
    }
}
