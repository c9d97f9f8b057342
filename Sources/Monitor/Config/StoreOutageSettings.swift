import Foundation
import Yams

/// The `store_outage:` subtree: what an instance does when its store (PostgreSQL) does not answer
/// (`docs/multi-location.md`, "When the database is unreachable").
///
/// - `store_outage.notify_after`: how long the store must stay unreachable before the one direct "monitoring
///   degraded" message of the outage is posted (default 30s, at most 24h); a reload (SIGHUP) changes it;
/// - `store_outage.connection_wait`: how long a storage call waits for a database connection before it counts
///   as failed (default 5s, 100ms…60s); read at start only (the store is open).
public struct StoreOutageSettings: Sendable, Hashable {
    public var notifyAfter: Duration = .seconds(30)
    public var connectionWait: Duration = .seconds(5)

    public init() {}
}

extension ConfigReader {
    /// The top-level key this file reads.
    static let storeOutageKeys: Set<String> = ["store_outage"]

    mutating func readStoreOutage(_ node: Node) -> StoreOutageSettings {
        var settings = StoreOutageSettings()
        guard let map = mapping(node, at: "store_outage", allowed: ["notify_after", "connection_wait"]) else {
            return settings
        }
        if let v = duration(map["notify_after"], at: "store_outage.notify_after") { settings.notifyAfter = v }
        if let v = duration(map["connection_wait"], at: "store_outage.connection_wait") {
            if v < .milliseconds(100) || v > .seconds(60) {
                fail("store_outage.connection_wait", "must be between 100ms and 60s")
            } else {
                settings.connectionWait = v
            }
        }
        return settings
    }
}
