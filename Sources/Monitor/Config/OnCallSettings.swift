import Yams

/// How an incident is told in Discord and how the on-call human is reminded.
public struct OnCallSettings: Sendable, Hashable {
    /// `discord.edit_messages` (default true): one living message per incident, created at its first alert
    /// and edited in place as it proceeds. `false`: one post per step (for channels where edits are missed),
    /// at most `NarrationFold.cap` narration posts per incident, then one "…and N more steps" fold.
    public var editMessages: Bool
    /// `paging.reminder_minutes` (default 30, 0 = off): while a paged incident stays unresolved, a reminder
    /// without a mention this often.
    public var reminderMinutes: Int

    public init(editMessages: Bool = true, reminderMinutes: Int = 30) {
        self.editMessages = editMessages
        self.reminderMinutes = reminderMinutes
    }
}

extension ConfigReader {
    /// `discord.edit_messages` and the `paging:` section (`reminder_minutes`).
    mutating func readOnCall(_ top: [String: Node]) -> OnCallSettings {
        var settings = OnCallSettings()
        if case .mapping(let discord)? = top["discord"],
            let node = discord.first(where: { $0.key.string == "edit_messages" })?.value,
            let edit = bool(node, at: "discord.edit_messages")
        {
            settings.editMessages = edit
        }
        if let node = top["paging"], let paging = mapping(node, at: "paging", allowed: ["reminder_minutes"]),
            let minutes = int(paging["reminder_minutes"], at: "paging.reminder_minutes", range: 0...10_080)
        {
            settings.reminderMinutes = minutes
        }
        return settings
    }
}
