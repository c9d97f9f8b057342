public import Foundation
import Logging
import Probing
import Synchronization

extension MonitorConfig {
    /// A location whose last heartbeat is older than this has left the quorum: 3 × `interval`.
    public var locationLiveWindow: TimeInterval { 3 * interval.timeInterval }

    /// After a store outage, how long this instance waits before it judges other locations silent: every
    /// heartbeat went stale while nobody could write one, and each instance reaches the store again in its own
    /// time (a storage call waits up to `store_outage.connection_wait` for a connection, then the instance beats
    /// within an `interval`). One live window on top of that, as for any location.
    public var locationSettleAfterOutage: TimeInterval {
        locationLiveWindow + storeOutage.connectionWait.timeInterval + interval.timeInterval
    }
}

/// This instance as one location of the fleet: its heartbeat renewed once per cycle whatever is due (a location
/// with nothing to probe still counts as live), and the fleet's silent locations announced once.
extension MonitorService {
    /// Once per `interval`: renews this location's heartbeat, then announces the locations that fell silent or
    /// came back (once fleet-wide, whichever instance notices first). Needs a store with `LocationStorage`.
    ///
    /// Not within `locationSettleAfterOutage` of the store answering again after an outage: then every other
    /// location's heartbeat is stale because nobody could write one, and judging them would announce each
    /// silent and back again.
    func renewLocation(now: Date) async {
        guard let fleet = store as? any LocationStorage else { return }
        let config = self.config
        let due = schedule.withLock { s in
            guard now >= s.nextHeartbeat else { return false }
            s.nextHeartbeat = now.addingTimeInterval(config.interval.timeInterval)
            return true
        }
        guard due else { return }
        let meta: Logger.Metadata = ["location": "\(config.store.location)"]
        do {
            try await fleet.heartbeat(location: config.store.location, now: now)
            let changes: [LocationChange]
            if let back = storeHealth.recoveredAt, now < back.addingTimeInterval(config.locationSettleAfterOutage) {
                logger.debug(
                    "store answered again after an outage; silent locations not judged until every location could beat",
                    metadata: meta.merging(["store.recovered_at": "\(back)"]) { $1 }
                )
                changes = []
            } else {
                changes = try await fleet.announceLocationChanges(
                    now: now,
                    window: config.locationLiveWindow,
                    message: AlertFormatter.locationChange
                )
            }
            for change in changes {
                logger.notice(
                    change.kind == .silent ? "location silent, left the quorum" : "location back in the quorum",
                    metadata: [
                        "location": "\(change.location)",
                        "location.silent_since": "\(change.silentSince)",
                        "quorum.live": .stringConvertible(change.live),
                        "quorum.known": .stringConvertible(change.known),
                    ]
                )
            }
            if !changes.isEmpty { outbox.signal.signal() }
            metrics.locations(try await fleet.locations(), now: now, window: config.locationLiveWindow)
        } catch {
            logger.error("cannot renew the location's heartbeat", metadata: meta.merging(["error": "\(error)"]) { $1 })
        }
    }
}

extension MonitorService {
    /// The fleet's locations and each property's per-location view, for the status (nil: a store without
    /// locations).
    func fleetStatus(at now: Date) async throws
        -> (locations: [StatusReport.FleetLocation], views: [String: [LocationView]])?
    {
        guard let fleet = store as? any LocationStorage else { return nil }
        let window = config.locationLiveWindow
        let locations = try await fleet.locations().map {
            StatusReport.FleetLocation(
                name: $0.name,
                lastSeen: $0.lastSeen,
                live: $0.isLive(at: now, window: window),
                silentSince: $0.silentSince
            )
        }
        return (locations, Dictionary(grouping: try await fleet.locationViews(property: nil), by: \.property))
    }
}
