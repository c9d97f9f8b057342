/// Removes secrets from text before it leaves the host: bearer tokens, API keys, `password=`/`token=`
/// style parameters, passwords in URLs, private key blocks.
///
/// Linear in the length of the text: each rule is a hand-written scanner that looks at every byte
/// a bounded number of times (no backtracking regular expressions, which a hostile log line such as
/// `GET /a-a-a-…-token` drove into quadratic time). ASCII is matched case-insensitively where the
/// rule says so; bytes of other scripts never count as word characters, so a rule may redact a little
/// more than the regular expressions it replaces, never less.
public enum SecretRedactor {
    public static let marker = "[REDACTED]"

    /// `text` with every secret replaced by ``marker``.
    public static func redact(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var changed = false
        if RedactionScan.contains(bytes, "private key-----") {
            changed = PrivateKeyRule.apply(&bytes) || changed
        }
        // Most log lines hold none of the words a secret needs: only lines that do are scanned.
        var output: [UInt8] = []
        var lineStart = 0
        var lineChanged = false
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var line = Array(bytes[lineStart..<lineEnd])
            if triggers.contains(where: { RedactionScan.contains(line, $0) }) {
                for rule in lineRules { lineChanged = rule(&line) || lineChanged }
            }
            output.append(contentsOf: line)
            if lineEnd < bytes.count { output.append(UInt8(ascii: "\n")) }
            lineStart = lineEnd + 1
        }
        guard changed || lineChanged else { return text }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lowercase words at least one of which every line rule's match contains.
    private static let triggers: [String] = [
        "bearer", "basic", "://", "pass", "pwd", "token", "key", "secret", "credential", "sk-", "gh", "xox", "akia",
        "eyj", "authorization", "cookie",
    ]

    /// The line rules, in the order they apply (a later rule sees an earlier one's markers).
    private static let lineRules: [@Sendable (inout [UInt8]) -> Bool] = [
        // Authorization: Bearer <token> / Basic <b64>
        { RedactionScan.replaceAll(&$0, BearerRule.match) },
        // scheme://user:password@host
        { RedactionScan.replaceAll(&$0, URLPasswordRule.match) },
        // password=..., token: ..., "api_key": "...", secret=...
        { RedactionScan.replaceAll(&$0, KeyValueRule.match) },
        // Whole values of credential headers, unless the bearer/basic rule already kept the scheme.
        { RedactionScan.replaceAll(&$0, CredentialHeaderRule.match) },
        // OpenAI-style keys (sk-..., sk-proj-...), GitHub tokens, Slack tokens, AWS access key ids, JWTs.
        { RedactionScan.replaceAll(&$0, TokenShapeRule.openAI) },
        { RedactionScan.replaceAll(&$0, TokenShapeRule.gitHub) },
        { RedactionScan.replaceAll(&$0, TokenShapeRule.slack) },
        { RedactionScan.replaceAll(&$0, TokenShapeRule.awsKeyID) },
        { RedactionScan.replaceAll(&$0, TokenShapeRule.jwt) },
    ]
}
