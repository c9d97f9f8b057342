import Foundation

extension ConfigReader {
    /// `METRICS_TOKEN`: the control API's scrape credential. It opens `GET /metrics` and nothing else (not the
    /// status, check-now, silences or the outbox), so a Prometheus server never holds `CONTROL_TOKEN`. At least
    /// 16 characters, and not `CONTROL_TOKEN` itself.
    mutating func readMetricsToken(_ environment: [String: String], controlToken: Secret?) -> Secret? {
        guard let token = environment["METRICS_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !token.isEmpty
        else { return nil }
        if token.count < 16 {
            errors.append(
                ConfigError(file: "environment", path: "METRICS_TOKEN", problem: "must be at least 16 characters")
            )
            return nil
        }
        if token == controlToken?.value {
            errors.append(
                ConfigError(
                    file: "environment",
                    path: "METRICS_TOKEN",
                    problem: "must differ from CONTROL_TOKEN (it may only read /metrics)"
                )
            )
            return nil
        }
        return Secret(token)
    }
}
