public import Foundation
public import Probing

/// The texts of the certificate-expiry warning (its own state, `expiring`) and of its all-clear.
extension AlertFormatter {
    /// "api certificate expires in 9 days": days left, the notAfter date, the window, and that it repeats.
    public static func certificateExpiring(_ result: ProbeResult, _ certificate: CertificateState, at: Date)
        -> DiscordMessage
    {
        let days = certificate.daysLeft == 1 ? "1 day" : "\(certificate.daysLeft) days"
        let embed = DiscordMessage.Embed(
            title: "\(result.property) certificate expires in \(days)",
            description: DiscordText.cut(result.url, to: 1024),
            url: nil,
            color: amber,
            timestamp: at,
            fields: [
                .init("State", "expiring", inline: true),
                .init("Days left", "\(certificate.daysLeft)", inline: true),
                .init("Not after", notAfterText(certificate.notAfter), inline: true),
                .init(
                    "Warning",
                    "within \(certificate.warningDays) days of expiry; repeated once a day until the certificate is renewed"
                ),
            ],
            footer: "zumik-monitor"
        )
        return DiscordMessage(embeds: [embed])
    }

    /// "api certificate renewed": the new notAfter.
    public static func certificateRenewed(_ result: ProbeResult, _ certificate: CertificateState, at: Date)
        -> DiscordMessage
    {
        let embed = DiscordMessage.Embed(
            title: "\(result.property) certificate renewed",
            description: DiscordText.cut(result.url, to: 1024),
            url: nil,
            color: green,
            timestamp: at,
            fields: [
                .init("Days left", "\(certificate.daysLeft)", inline: true),
                .init("Not after", notAfterText(certificate.notAfter), inline: true),
            ],
            footer: "zumik-monitor"
        )
        return DiscordMessage(embeds: [embed])
    }

    /// `2026-12-09 23:59 UTC`.
    static func notAfterText(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) UTC"
    }
}
