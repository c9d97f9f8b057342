import Dispatch
public import Foundation
import Logging
import Probing
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a reload changed.
public struct ConfigReloadOutcome: Sendable, Hashable {
    public var generation: Int
    public var added: [String]
    public var removed: [String]
    /// Keys that differ in the new file but take effect only at a restart (kept as they were).
    public var needsRestart: [String]
}

/// SIGHUP: the configuration is read again and, when it is valid, swapped in whole; a bad file keeps the
/// running configuration and logs why (file, key, problem).
extension MonitorService {
    /// Swaps `new` in at once: removed properties are no longer probed, new ones are probed at the next tick,
    /// unchanged ones keep their state (it lives in the store under their name) and their schedule. The store,
    /// the control listener, the transfer cap, the Discord backoff and on-call settings, history, the status
    /// page, the remediation settings and the store's backend, location and lease belong to services started with the process: they keep their running
    /// values (`needsRestart` names them).
    @discardableResult
    public func reload(_ new: MonitorConfig) -> ConfigReloadOutcome {
        var next = Self.resolved(new)
        let (old, generation) = live.withLock { live in
            let old = live.config
            next.storePath = old.storePath
            next.controlHost = old.controlHost
            next.controlPort = old.controlPort
            next.maxInFlight = old.maxInFlight
            next.retryBase = old.retryBase
            next.retryMax = old.retryMax
            next.remediation = old.remediation
            next.onCall = old.onCall
            next.history = old.history
            next.statusPage = old.statusPage
            next.secrets = old.secrets
            next.store = old.store
            live.config = next
            live.generation += 1
            return (old, live.generation)
        }
        var needsRestart: [String] = []
        if new.storePath != old.storePath { needsRestart.append("store_path") }
        if new.controlHost != old.controlHost || new.controlPort != old.controlPort {
            needsRestart.append("control.listen")
        }
        if new.maxInFlight != old.maxInFlight { needsRestart.append("max_in_flight") }
        if new.retryBase != old.retryBase || new.retryMax != old.retryMax { needsRestart.append("discord") }
        if new.remediation != old.remediation { needsRestart.append("remediation") }
        if new.onCall != old.onCall { needsRestart.append("discord.edit_messages/paging") }
        if new.history != old.history { needsRestart.append("history") }
        if new.statusPage != old.statusPage { needsRestart.append("status_page") }
        if !new.store.isSameStore(as: old.store) { needsRestart.append("store/location/remediation_lease") }
        let oldNames = old.properties.map(\.name)
        let newNames = next.properties.map(\.name)
        let removed = oldNames.filter { !newNames.contains($0) }
        schedule.withLock { s in
            for name in removed {
                s.nextDue.removeValue(forKey: name)
                s.maintenance.removeValue(forKey: name)
            }
        }
        wake.signal()
        return ConfigReloadOutcome(
            generation: generation,
            added: newNames.filter { !oldNames.contains($0) },
            removed: removed,
            needsRestart: needsRestart
        )
    }

    /// Reads `path` again and reloads it; on any error keeps the running configuration and logs one error line
    /// per problem naming the file, the key and why. Returns whether the new file was taken.
    @discardableResult
    public func reloadConfiguration(
        from path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Bool {
        let config: MonitorConfig
        do {
            config = try ConfigLoader.load(path: path, environment: environment)
        } catch {
            for problem in error.errors {
                logger.error(
                    "configuration reload refused; keeping the running configuration",
                    metadata: [
                        "config.file": "\(path)", "config.key": "\(problem.path)", "error": "\(problem.problem)",
                        "config.generation": .stringConvertible(configGeneration),
                    ]
                )
            }
            return false
        }
        let outcome = reload(config)
        logger.notice(
            "configuration reloaded",
            metadata: [
                "config.file": "\(path)", "config.generation": .stringConvertible(outcome.generation),
                "config.properties": .stringConvertible(config.properties.count),
                "config.added": "\(outcome.added.joined(separator: ","))",
                "config.removed": "\(outcome.removed.joined(separator: ","))",
            ]
        )
        if !outcome.needsRestart.isEmpty {
            logger.warning(
                "configuration keys changed that take effect only at restart; running values kept",
                metadata: ["config.file": "\(path)", "config.keys": "\(outcome.needsRestart.joined(separator: ","))"]
            )
        }
        return true
    }

    /// Reloads from `path` on every SIGHUP (whose default action, ending the process, is turned off) until the
    /// returned source is cancelled.
    public func reloadOnHangup(configPath path: String) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(
            signal: SIGHUP,
            queue: DispatchQueue(label: "zumik-monitor.sighup")
        )
        source.setEventHandler { [self] in
            logger.info("SIGHUP received; reloading the configuration", metadata: ["config.file": "\(path)"])
            reloadConfiguration(from: path)
        }
        source.resume()
        return source
    }

    /// `config` with each property's certificate window filled in from the global one.
    static func resolved(_ config: MonitorConfig) -> MonitorConfig {
        var config = config
        for index in config.properties.indices where config.properties[index].certWarningDays == nil {
            config.properties[index].certWarningDays = config.certWarningDays
        }
        return config
    }
}
