public import Foundation
import Logging
import Probing
import Synchronization

extension MonitorConfig {
    /// A location whose last heartbeat is older than this has left the quorum: 3 × `interval`.
    public var locationLiveWindow: TimeInterval { 3 * interval.timeInterval }
}

/// This instance as one location of the fleet: its heartbeat renewed once per cycle whatever is due (a location
/// with nothing to probe still counts as live), and the fleet's silent locations announced once.
extension MonitorService {
    /// Once per `interval`: renews this location's heartbeat, then announces the locations that fell silent or
    /// came back (once fleet-wide, whichever instance notices first). Needs a store with `LocationStorage`.
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
            let changes = try await fleet.announceLocationChanges(
                now: now,
                window: config.locationLiveWindow,
                message: AlertFormatter.locationChange
            )
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
