#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AgentConfiguration {
    /// The scrape credential: `OPS_AGENT_METRICS_TOKEN`, or the file `OPS_AGENT_METRICS_TOKEN_FILE` (same rules
    /// as the action token's file). It opens `GET /metrics` and nothing else, so a Prometheus server never
    /// holds the token that runs actions. It must differ from that token. Nil when neither is set.
    static func metricsToken(_ environment: [String: String], actionToken: String) throws(StartupError) -> String? {
        let token: String
        if let value = environment["OPS_AGENT_METRICS_TOKEN"], !value.isEmpty {
            token = value
        } else if let file = environment["OPS_AGENT_METRICS_TOKEN_FILE"], !file.isEmpty {
            token = try readTokenFile(file, variable: "OPS_AGENT_METRICS_TOKEN_FILE")
        } else {
            return nil
        }
        try checkToken(token, variable: "OPS_AGENT_METRICS_TOKEN")
        guard token != actionToken else {
            throw StartupError("OPS_AGENT_METRICS_TOKEN: must differ from OPS_AGENT_TOKEN (it may only read /metrics)")
        }
        return token
    }

    /// Long enough, printable ASCII without spaces.
    static func checkToken(_ token: String, variable: String) throws(StartupError) {
        guard token.count >= minimumTokenLength else {
            throw StartupError(
                "\(variable): too short (\(token.count) characters; at least \(minimumTokenLength) required)"
            )
        }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw StartupError("\(variable): must be printable ASCII without spaces")
        }
    }
}
