import Foundation
import Logging
import Probing

/// One living message per incident: the sender renders the incident from its records each time a render
/// row is due; the first send creates the message (`?wait=true`, Discord answers the message object, whose
/// `id` is kept on the incident in the transaction that marks the row delivered), later sends edit it in
/// place (`PATCH …/messages/{id}`; edits notify nobody). A message deleted in Discord (404 to the edit) is
/// posted anew and the new id kept.
extension AlertSender {
    /// The outbox kind of "render incident N's living message" rows.
    static let incidentKind = "incident"

    enum IncidentSend {
        case sent
        case refused(HTTPResult)
    }

    func renderIncidentMessage(_ id: IncidentID, now: Date) async throws -> DiscordMessage? {
        guard let incident = try await store.incident(id: id) else { return nil }
        let events = try await store.incidentEvents(incidentID: id)
        return IncidentMessageRenderer.message(incident: incident, events: events, now: now)
    }

    func sendIncidentMessage(_ row: OutboxRow, webhookURL: Secret, meta: Logger.Metadata, now: () -> Date)
        async throws -> IncidentSend
    {
        var meta = meta
        guard let id = row.incidentID, let message = try await renderIncidentMessage(id, now: now()) else {
            try await store.markDelivered(row.id, at: now())  // nothing left to show
            return .sent
        }
        if let messageID = try await store.incidentMessage(incidentID: id)?.messageID {
            meta["discord.message_id"] = "\(messageID)"
            let url = WebhookURL.message(webhookURL.value, id: messageID)
            let result = await send("PATCH", message.editBody(), to: url)
            if let status = result.status, (200..<300).contains(status) {
                try await sent(row, id, messageID: nil, now: now)
                logger.debug("incident message edited", metadata: meta)
                return .sent
            }
            guard result.status == 404 else { return .refused(result) }
            try await store.forgetIncidentMessage(incidentID: id, messageID: messageID)
            logger.warning("incident message was deleted in Discord; posting a new one", metadata: meta)
        }
        let result = await send("POST", message.jsonBody(), to: WebhookURL.waitingForMessage(webhookURL.value))
        guard let status = result.status, (200..<300).contains(status) else { return .refused(result) }
        let created = WebhookMessageReply.id(of: result.body)
        if let created {
            meta["discord.message_id"] = "\(created)"
            logger.debug("incident message created", metadata: meta)
        } else {
            logger.warning("Discord answered without a message id; the next step posts a new message", metadata: meta)
        }
        try await sent(row, id, messageID: created, now: now)
        return .sent
    }

    private func sent(_ row: OutboxRow, _ id: IncidentID, messageID: String?, now: () -> Date) async throws {
        pager.delivered()
        pager.deliveredAlert(kind: row.kind)
        _ = try await store.incidentMessageSent(
            outboxID: row.id,
            rendered: row.payload,
            incidentID: id,
            messageID: messageID,
            at: now()
        )
    }
}

/// The webhook URLs Discord derives from the one configured (its own query, e.g. `thread_id`, kept).
enum WebhookURL {
    /// Execute webhook, answering with the created message object.
    static func waitingForMessage(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        parts.queryItems =
            (parts.queryItems ?? []).filter { $0.name != "wait" } + [URLQueryItem(name: "wait", value: "true")]
        return parts.string ?? url
    }

    /// `…/webhooks/{id}/{token}/messages/{message_id}`.
    static func message(_ url: String, id: String) -> String {
        guard var parts = URLComponents(string: url) else { return url }
        var path = parts.path
        while path.hasSuffix("/") { path.removeLast() }
        parts.path = path + "/messages/" + id
        parts.queryItems = parts.queryItems?.filter { $0.name != "wait" }
        if parts.queryItems?.isEmpty == true { parts.queryItems = nil }
        return parts.string ?? url
    }
}

/// The `?wait=true` reply (`discord_webhook_message_response.schema.json`, a message object): only its `id`
/// (a snowflake: decimal digits) is used.
enum WebhookMessageReply {
    private struct Reply: Decodable {
        var id: String
        var channelID: String?
        enum CodingKeys: String, CodingKey {
            case id
            case channelID = "channel_id"
        }
    }

    static func id(of body: [UInt8]) -> String? {
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(body)),
            (1...20).contains(reply.id.count), reply.id.allSatisfy(\.isASCII), reply.id.allSatisfy(\.isNumber)
        else { return nil }
        return reply.id
    }
}

extension DiscordMessage {
    /// The edit body (`discord_update_webhook_message.schema.json`): content, embeds and allowed mentions;
    /// a webhook message's username cannot be changed by an edit.
    public func editBody() -> [UInt8] {
        struct Edit: Encodable {
            var content: String?
            var embeds: [Embed]
            var allowedMentions: AllowedMentions
            enum CodingKeys: String, CodingKey {
                case content, embeds
                case allowedMentions = "allowed_mentions"
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let edit = Edit(content: content, embeds: embeds, allowedMentions: allowedMentions)
        return Array((try? encoder.encode(edit)) ?? Data())
    }
}

extension AlertSender {
    /// At start: a page parked undelivered (refused by Discord before a restart) means the pager is still
    /// broken, so `/healthz`, the status and the metrics say so until a delivery succeeds again.
    public func restorePagerHealth(from rows: [OutboxRow]) {
        guard let parked = rows.last(where: { $0.kind == Self.pageKind && $0.failedAt != nil }) else { return }
        let error = "a page (outbox row \(parked.id)) is parked undelivered: \(parked.lastError ?? "refused")"
        pager.broken("\(error); \(Self.fixHint)", at: parked.failedAt ?? Date())
        logger.error(
            "a page is parked undelivered; the pager is broken",
            metadata: ["outbox.id": .stringConvertible(parked.id), "fix": "\(Self.fixHint)"]
        )
    }
}

extension AlertSender {
    /// The body to post for a row: as queued, or, for a narration fold, rendered now with the steps it folds.
    func body(of row: OutboxRow) async throws -> [UInt8] {
        guard row.kind == NarrationFold.kind, let id = row.incidentID else { return Array(row.payload.utf8) }
        let steps = try await store.incidentEvents(incidentID: id).filter {
            $0.notice != nil && $0.kind.hasPrefix("remediation.") && $0.kind != "remediation.paged"
        }
        let more = max(1, steps.count - NarrationFold.cap)
        let property = try await store.incident(id: id)?.property ?? "the property"
        return DiscordMessage(
            content: "… and more steps of incident #\(id) (\(property); \(more) so far) not posted here: at most "
                + "\(NarrationFold.cap) per incident with `discord.edit_messages: false`; the incident's records "
                + "in the monitor's store keep every step."
        ).jsonBody()
    }
}
