import Probing

/// What `zumik-monitor validate` checks beyond the file's syntax: settings that parse but cannot work at
/// runtime. Each problem names the property or host and what is missing; none repeats a secret.
extension MonitorConfig {
    public func runtimeProblems(file: String) -> [ConfigError] {
        var problems: [ConfigError] = []
        for (index, property) in properties.enumerated() where !property.alertOnly {
            guard let name = property.host, let host = hosts[name] else { continue }
            let path = "properties[\(index)].host"
            if host.url == nil {
                problems.append(
                    ConfigError(
                        file: file,
                        path: path,
                        problem: "property \(property.name) is remediable through host \(name), which has no agent "
                            + "URL: set \(host.urlEnv) (or make the property alert_only)"
                    )
                )
            }
            if host.token == nil {
                problems.append(
                    ConfigError(
                        file: file,
                        path: path,
                        problem: "property \(property.name) is remediable through host \(name), which has no agent "
                            + "token: set \(host.tokenEnv) (or make the property alert_only)"
                    )
                )
            }
        }
        let paging = properties.filter { !$0.alertOnly && $0.host != nil }.map(\.name)
        if !paging.isEmpty, secrets.discordAlertUserID == nil {
            problems.append(
                ConfigError(
                    file: "environment",
                    path: "DISCORD_ALERT_USER_ID",
                    problem: "required: the on-call human is paged when automation gives up on "
                        + "\(paging.joined(separator: ", ")), and no user to page is set"
                )
            )
        }
        return problems
    }
}
