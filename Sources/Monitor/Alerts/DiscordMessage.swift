public import Foundation

/// A Discord execute-webhook body. `allowedMentions` is always present: `{"parse": []}` for every message,
/// and `{"parse": [], "users": [ID]}` only for a page, so text copied from a probe (a body, an error) can
/// never ping anyone.
public struct DiscordMessage: Sendable, Hashable, Codable {
    public var username: String
    public var content: String?
    public var embeds: [Embed]
    public var allowedMentions: AllowedMentions

    public init(content: String? = nil, embeds: [Embed] = [], allowedMentions: AllowedMentions = .none) {
        self.username = "Zumik ops"
        self.content = content.map { DiscordText.cut($0, to: DiscordText.contentLimit) }
        self.embeds = Self.fitTotal(Array(embeds.prefix(DiscordText.embedCountLimit)))
        self.allowedMentions = allowedMentions
    }

    /// The fixed, minimal form of a page, sent when Discord refused the full one: the mention, the property
    /// and the incident number, nothing copied from a probe or a model, so Discord has no text to refuse.
    public static func minimalPage(userID: String?, property: String, incidentID: IncidentID?) -> DiscordMessage {
        let incident = incidentID.map { " Incident \($0)." } ?? ""
        return DiscordMessage(
            content: (userID.map { "<@\($0)> " } ?? "") + "🚨 **\(DiscordText.cut(property, to: 200))** is down "
                + "and needs a human.\(incident) (Discord refused the full page; `zumik-monitor outbox list` keeps it.)",
            allowedMentions: userID.map(AllowedMentions.user) ?? .none
        )
    }

    /// The one user a webhook JSON body allows to be mentioned (a page's on-call user), if any.
    public static func mentionedUser(ofPayload payload: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
            let mentions = object["allowed_mentions"] as? [String: Any]
        else { return nil }
        return (mentions["users"] as? [String])?.first
    }

    /// A page: `<@ID>` in the content, and exactly that user allowed to be mentioned.
    public static func page(userID: String, text: String, embeds: [Embed] = []) -> DiscordMessage {
        DiscordMessage(content: "<@\(userID)> \(text)", embeds: embeds, allowedMentions: .user(userID))
    }

    public struct AllowedMentions: Sendable, Hashable, Codable {
        public var parse: [String]
        public var users: [String]?

        /// `{"parse": []}`: nobody can be pinged.
        public static let none = AllowedMentions(parse: [], users: nil)
        /// `{"parse": [], "users": [id]}`: only this user.
        public static func user(_ id: String) -> AllowedMentions { AllowedMentions(parse: [], users: [id]) }
    }

    public struct Embed: Sendable, Hashable, Codable {
        public var title: String
        public var description: String?
        public var url: String?
        public var color: Int
        public var timestamp: String?
        public var fields: [Field]
        public var footer: Footer?

        public init(
            title: String,
            description: String? = nil,
            url: String? = nil,
            color: Int,
            timestamp: Date? = nil,
            fields: [Field] = [],
            footer: String? = nil
        ) {
            self.title = DiscordText.cut(title, to: DiscordText.titleLimit)
            self.description = description.map { DiscordText.cut($0, to: DiscordText.descriptionLimit) }
            self.url = url.flatMap { $0.count <= 2048 && URL(string: $0) != nil ? $0 : nil }
            self.color = max(0, min(color, 0xFF_FFFF))
            self.timestamp = timestamp.map { DiscordMessage.iso8601($0) }
            self.fields = Array(fields.prefix(DiscordText.fieldCountLimit))
            self.footer = footer.map { Footer(text: DiscordText.cut($0, to: DiscordText.footerLimit)) }
        }
    }

    public struct Field: Sendable, Hashable, Codable {
        public var name: String
        public var value: String
        public var inline: Bool

        public init(_ name: String, _ value: String, inline: Bool = false) {
            self.name = DiscordText.cut(name.isEmpty ? "-" : name, to: DiscordText.fieldNameLimit)
            self.value = DiscordText.cut(value.isEmpty ? "-" : value, to: DiscordText.fieldValueLimit)
            self.inline = inline
        }
    }

    public struct Footer: Sendable, Hashable, Codable {
        public var text: String
    }

    enum CodingKeys: String, CodingKey {
        case username, content, embeds
        case allowedMentions = "allowed_mentions"
    }

    /// The JSON body sent to Discord.
    public func jsonBody() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// The same words as plain text, for the console sink.
    public var plainText: String {
        var lines: [String] = []
        if let content { lines.append(content) }
        for embed in embeds {
            lines.append(embed.title)
            if let description = embed.description { lines.append(description) }
            for field in embed.fields { lines.append("  \(field.name): \(field.value)") }
            if let footer = embed.footer { lines.append("  \(footer.text)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Plain text of any webhook JSON body (also ones other code wrote to the outbox); nil if not JSON.
    public static func plainText(ofPayload payload: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else {
            return nil
        }
        var lines: [String] = []
        if let content = object["content"] as? String { lines.append(content) }
        for embed in object["embeds"] as? [[String: Any]] ?? [] {
            if let title = embed["title"] as? String { lines.append(title) }
            if let description = embed["description"] as? String { lines.append(description) }
            for field in embed["fields"] as? [[String: Any]] ?? [] {
                lines.append("  \(field["name"] as? String ?? ""): \(field["value"] as? String ?? "")")
            }
            if let footer = (embed["footer"] as? [String: Any])?["text"] as? String { lines.append("  \(footer)") }
        }
        return lines.joined(separator: "\n")
    }

    /// `embeds` cut to Discord's 6,000-scalar total (titles, descriptions, field names and values, footers):
    /// text is kept in reading order, later descriptions and field values are cut, and what no longer fits
    /// at all (a field, a footer, a whole embed) is left out.
    static func fitTotal(_ embeds: [Embed]) -> [Embed] {
        var room = DiscordText.embedTotalLimit
        var fitted: [Embed] = []
        for var embed in embeds {
            let title = DiscordText.length(embed.title)
            guard title < room else { break }
            room -= title
            if let description = embed.description {
                embed.description = room > 0 ? DiscordText.cut(description, to: room) : nil
                room -= embed.description.map(DiscordText.length) ?? 0
            }
            var fields: [Field] = []
            for var field in embed.fields {
                let name = DiscordText.length(field.name)
                guard name < room else { break }
                field.value = DiscordText.cut(field.value, to: room - name)
                room -= name + DiscordText.length(field.value)
                fields.append(field)
            }
            embed.fields = fields
            if let footer = embed.footer {
                embed.footer = room > 0 ? Footer(text: DiscordText.cut(footer.text, to: room)) : nil
                room -= embed.footer.map { DiscordText.length($0.text) } ?? 0
            }
            fitted.append(embed)
        }
        return fitted
    }

    static func iso8601(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted)
        )
    }
}

extension DiscordMessage: OutboxMessage {
    /// The execute-webhook JSON body.
    public var body: [UInt8] { jsonBody() }
}
