/// Settings of the `remediation:` subtree of the monitor config, read by `ConfigLoader` like every other key.
///
/// - `remediation.model`: Chat Completions model (default `gpt-4o-mini`).
/// - `remediation.base_url`: OpenAI-compatible base URL (default `https://api.openai.com/v1`).
/// - `remediation.settle_seconds`: wait after a remediation before the re-probe (default 20).
/// - `remediation.max_completion_tokens`: cap on each model reply (default 800).
/// - `remediation.model_timeout_seconds`: timeout of one model call (default 30).
/// - `remediation.max_model_turns`: cap on model calls per incident (default 10).
public struct RemediationSettings: Sendable, Hashable {
    public var model: String
    public var baseURL: String
    public var settle: Duration
    public var maxCompletionTokens: Int
    public var modelTimeout: Duration
    public var maxModelTurns: Int

    public init(
        model: String = "gpt-4o-mini",
        baseURL: String = "https://api.openai.com/v1",
        settle: Duration = .seconds(20),
        maxCompletionTokens: Int = 800,
        modelTimeout: Duration = .seconds(30),
        maxModelTurns: Int = 10
    ) {
        self.model = model
        self.baseURL = baseURL
        self.settle = settle
        self.maxCompletionTokens = maxCompletionTokens
        self.modelTimeout = modelTimeout
        self.maxModelTurns = maxModelTurns
    }
}
