/// Discord's limits on message text, counted as Discord and the official schema count them: in code points
/// (Unicode scalars), not in user-visible characters. Every text we send is cut here, and only here.
public enum DiscordText {
    /// `content` of a message.
    public static let contentLimit = 2000
    /// An embed's `title`.
    public static let titleLimit = 256
    /// An embed's `description`.
    public static let descriptionLimit = 4096
    /// A field's `name`.
    public static let fieldNameLimit = 256
    /// A field's `value`.
    public static let fieldValueLimit = 1024
    /// A footer's `text`.
    public static let footerLimit = 2048
    /// The sum of every embed's title, description, field names and values and footer text in one message.
    public static let embedTotalLimit = 6000
    /// Embeds in one message.
    public static let embedCountLimit = 10
    /// Fields in one embed.
    public static let fieldCountLimit = 25
    /// The marker that ends a cut text (one scalar).
    public static let ellipsis: Character = "…"

    /// The length of `text` as Discord counts it.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// `text` if it has at most `limit` scalars, else its longest start that fits with `…` appended. The cut
    /// falls between user-visible characters where it can (never inside an emoji ZWJ sequence or between a
    /// letter and its accents), and between scalars only when the first character alone is longer than the
    /// limit (a letter buried under combining marks).
    public static func cut(_ text: String, to limit: Int) -> String {
        guard limit > 0 else { return "" }
        guard length(text) > limit else { return text }
        let room = limit - 1
        var kept = String.UnicodeScalarView()
        var used = 0
        for character in text {
            let scalars = character.unicodeScalars
            if used + scalars.count > room {
                if kept.isEmpty { kept.append(contentsOf: scalars.prefix(room)) }
                break
            }
            kept.append(contentsOf: scalars)
            used += scalars.count
        }
        return String(kept) + String(ellipsis)
    }
}
