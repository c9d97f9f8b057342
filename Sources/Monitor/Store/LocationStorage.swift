public import Foundation
public import Probing

/// A location's heartbeat as the fleet's store keeps it (`locations`).
public struct LocationHeartbeat: Sendable, Hashable {
    public var name: String
    /// The location's last heartbeat: each instance renews it once per cycle, and with every recorded probe.
    public var lastSeen: Date
    /// Since when the fleet has announced the location silent (its last heartbeat then); nil while it was not.
    public var silentSince: Date?

    public init(name: String, lastSeen: Date, silentSince: Date? = nil) {
        self.name = name
        self.lastSeen = lastSeen
        self.silentSince = silentSince
    }

    /// Whether the location is in the quorum at `now`: heard from within `window`.
    public func isLive(at now: Date, window: TimeInterval) -> Bool {
        now.timeIntervalSince(lastSeen) <= window
    }
}

/// A location leaving the quorum (silent for longer than the live window) or rejoining it: announced once
/// fleet-wide each way.
public struct LocationChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case silent
        case returned
    }

    public var kind: Kind
    public var location: String
    /// The location's last heartbeat before it fell silent.
    public var silentSince: Date
    /// When the change was noticed.
    public var at: Date
    /// Live locations after the change, and every location the fleet knows.
    public var live: Int
    public var known: Int

    public init(kind: Kind, location: String, silentSince: Date, at: Date, live: Int, known: Int) {
        self.kind = kind
        self.location = location
        self.silentSince = silentSince
        self.at = at
        self.live = live
        self.known = known
    }

    /// The changes to announce among `locations` at `now`: a live-window-silent location not announced yet, and
    /// an announced one heard from again. Pure: the stores claim each inside one transaction.
    static func due(in locations: [LocationHeartbeat], now: Date, window: TimeInterval) -> [LocationChange] {
        let live = locations.filter { $0.isLive(at: now, window: window) }.count
        return locations.compactMap { location in
            switch (location.isLive(at: now, window: window), location.silentSince) {
            case (false, nil):
                return LocationChange(
                    kind: .silent,
                    location: location.name,
                    silentSince: location.lastSeen,
                    at: now,
                    live: live,
                    known: locations.count
                )
            case (true, let since?):
                return LocationChange(
                    kind: .returned,
                    location: location.name,
                    silentSince: since,
                    at: now,
                    live: live,
                    known: locations.count
                )
            default:
                return nil
            }
        }
    }
}

/// What one location has confirmed about one property (its own debounce), as status shows it.
public struct LocationView: Sendable, Hashable, Codable {
    public var property: String
    public var location: String
    /// The location's own confirmed state.
    public var state: Health
    /// Since when it holds (nil: recorded before this was kept).
    public var since: Date?
    /// Whether the location's below-quorum advisory is open (it sees a failure the quorum does not confirm).
    public var belowQuorum: Bool
    /// The location's last recorded result for the property.
    public var lastReport: Date

    public init(
        property: String,
        location: String,
        state: Health,
        since: Date?,
        belowQuorum: Bool,
        lastReport: Date
    ) {
        self.property = property
        self.location = location
        self.state = state
        self.since = since
        self.belowQuorum = belowQuorum
        self.lastReport = lastReport
    }

    init(_ state: PropertyState, location: String, lastReport: Date) {
        self.init(
            property: state.name,
            location: location,
            state: state.health,
            since: state.since,
            belowQuorum: state.announced != .healthy,
            lastReport: lastReport
        )
    }

    enum CodingKeys: String, CodingKey {
        case property, location, state, since
        case belowQuorum = "below_quorum"
        case lastReport = "last_report"
    }
}

/// The fleet's locations behind their own seam (beside `MonitorStorage`): heartbeats renewed on their own, and
/// silent locations announced once. Every method is one transaction; both backends implement it
/// (`LocationStorageContractTests`).
public protocol LocationStorage: Sendable {
    /// Renews `location`'s heartbeat at `now` (never moves it back).
    func heartbeat(location: String, now: Date) async throws

    /// Every location the fleet knows, by name.
    func locations() async throws -> [LocationHeartbeat]

    /// In one transaction: marks every location silent for longer than `window` and not announced yet as
    /// announced, and every announced one heard from again as back, queuing `message` for each (outbox kind
    /// `location`). However many instances call this at once, each change is claimed and queued once.
    func announceLocationChanges(
        now: Date,
        window: TimeInterval,
        message: @escaping @Sendable (LocationChange) -> any OutboxMessage
    ) async throws -> [LocationChange]

    /// What each location has confirmed about `property` (nil: every property), by property, then location.
    func locationViews(property: String?) async throws -> [LocationView]
}
