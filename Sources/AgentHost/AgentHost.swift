/// The ops-agent library: configuration, the action runner, the HTTP API, limits and audit.
/// The `zumik-ops-agent` executable is a thin `@main` over ``AgentServer``.
public enum AgentHost {
    public static let version = "0.1.0"
}
