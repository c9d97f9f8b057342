public import ActionKit
import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What MCP clients may do on this agent. Policy stays on the server: diagnostics are always
/// callable, a remediation only when the operator names it; MCP can only narrow what REST allows
/// (every call still goes through ``ActionDispatch``: auth, rate limit, lock, cooldown, audit).
///
/// Keys (option / environment, default):
/// - `--mcp-allow ACTION_ID` (repeatable) / `ZUMIK_MCP_ALLOW` (comma separated): remediations MCP
///   clients may call; none.
/// - `--mcp-disable` / `ZUMIK_MCP_DISABLE=1`: no MCP endpoint (`POST /mcp` answers 404); served.
public struct MCPConfiguration: Sendable, Hashable {
    public var enabled: Bool
    /// Remediations MCP clients may call (diagnostics always may).
    public var allowedRemediations: Set<String>
    /// Largest JSON-RPC message accepted on `POST /mcp` (413 beyond).
    public var maxBodyBytes: Int
    /// Most sessions remembered (the oldest is forgotten first; its client re-initializes).
    public var maxSessions: Int

    public init(
        enabled: Bool = true,
        allowedRemediations: Set<String> = [],
        maxBodyBytes: Int = 16 * 1024,
        maxSessions: Int = 1024
    ) {
        self.enabled = enabled
        self.allowedRemediations = allowedRemediations
        self.maxBodyBytes = maxBodyBytes
        self.maxSessions = maxSessions
    }

    /// Command-line values; empty / false means "not given" (the environment applies).
    public struct Options: Sendable {
        public var allow: [String]
        public var disable: Bool

        public init(allow: [String] = [], disable: Bool = false) {
            self.allow = allow
            self.disable = disable
        }
    }

    /// Options over environment over defaults; an entry that is not an action id is a start-up refusal.
    public static func resolve(_ options: Options, environment: [String: String]) throws(StartupError)
        -> MCPConfiguration
    {
        var allow = options.allow
        if allow.isEmpty, let value = environment["ZUMIK_MCP_ALLOW"] {
            allow = value.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        }
        for id in allow where !ActionID.isValid(id) {
            throw StartupError(
                "--mcp-allow / ZUMIK_MCP_ALLOW: '\(String(id.unicodeScalars.prefix(64)))' is not an action id (^[a-z][a-z0-9_]{0,63}$)"
            )
        }
        let disabledByEnvironment = ["1", "true", "yes"].contains(environment["ZUMIK_MCP_DISABLE"]?.lowercased() ?? "")
        return MCPConfiguration(enabled: !(options.disable || disabledByEnvironment), allowedRemediations: Set(allow))
    }

    /// Whether an MCP client may call (and see) this action.
    public func permits(_ spec: ActionSpec) -> Bool {
        spec.kind == .diagnostic || allowedRemediations.contains(spec.id)
    }
}
