import Foundation

extension ConfigLoader {
    /// The store's file: `ZUMIK_STORE_PATH` (absolute) wins over `store_path`; a relative `store_path` is
    /// resolved against the configuration file's directory. The systemd unit sets `ZUMIK_STORE_PATH` to a
    /// file in its `StateDirectory`, so the store never lands beside a read-only `/etc/zumik/monitor.yaml`.
    static func resolveStorePath(
        _ storePath: String,
        configPath: String,
        environment: [String: String]
    ) throws(ConfigErrors) -> String {
        if let override = environment["ZUMIK_STORE_PATH"], !override.isEmpty {
            guard override.hasPrefix("/") else {
                throw ConfigErrors([
                    ConfigError(
                        file: "environment",
                        path: "ZUMIK_STORE_PATH",
                        problem: "must be an absolute path, got \"\(override)\""
                    )
                ])
            }
            return override
        }
        if storePath.hasPrefix("/") { return storePath }
        let directory = (configPath as NSString).deletingLastPathComponent as NSString
        return directory.appendingPathComponent(storePath)
    }
}
