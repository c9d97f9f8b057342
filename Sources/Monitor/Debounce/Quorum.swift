public import Foundation
public import Probing

/// Where a probe result was taken, and how the fleet of locations decides a property's state.
public struct LocationContext: Sendable, Hashable {
    /// This instance's location name.
    public var name: String
    /// A location whose last heartbeat is older than this has left the quorum (e.g. 3 probe intervals).
    public var liveWindow: TimeInterval
    /// How many live locations must agree that a property is down (or degraded); nil: a majority of the live
    /// ones. Never more than the live locations, so a shrunken fleet still alerts.
    public var quorum: Int?
    /// The result was kept while the store was unreachable and is recorded late: it is dropped when the fleet
    /// has already recorded a newer one for the property (`Quorum.superseded`).
    public var replay: Bool

    public init(name: String, liveWindow: TimeInterval, quorum: Int? = nil, replay: Bool = false) {
        self.name = name
        self.liveWindow = liveWindow
        self.quorum = quorum
        self.replay = replay
    }

    /// The single instance of a one-machine store: the whole fleet, a quorum of one.
    public static let solo = LocationContext(name: "local", liveWindow: .infinity)
}

/// What one location has confirmed about a property (its own debounce), and when it was last heard from.
public struct LocationHealth: Sendable, Hashable {
    public var location: String
    public var health: Health
    public var lastSeen: Date

    public init(location: String, health: Health, lastSeen: Date) {
        self.location = location
        self.health = health
        self.lastSeen = lastSeen
    }
}

/// The fleet's verdict on a property: its state, and who is live and who sees it failing.
public struct QuorumDecision: Sendable, Hashable {
    public var health: Health
    /// Live locations, sorted.
    public var live: [String]
    /// Live locations whose own confirmed state is not healthy, sorted.
    public var failing: [String]
    /// Locations that must agree.
    public var required: Int

    /// Failing locations too few to decide: each sees a problem the quorum does not confirm.
    public var belowQuorum: [String] { health == .healthy ? failing : [] }
}

/// The pure quorum rule: a property is down when at least `required` live locations have confirmed it down,
/// degraded when at least `required` see it down or degraded, healthy otherwise.
public enum Quorum {
    public static func decide(_ locations: [LocationHealth], now: Date, context: LocationContext) -> QuorumDecision {
        let live = locations.filter { now.timeIntervalSince($0.lastSeen) <= context.liveWindow }
        let required = max(1, min(context.quorum ?? (live.count / 2 + 1), max(live.count, 1)))
        let down = live.filter { $0.health == .down }.count
        let failing = live.filter { $0.health != .healthy }
        let health: Health =
            down >= required ? .down : failing.count >= required ? .degraded : .healthy
        return QuorumDecision(
            health: health,
            live: live.map(\.location).sorted(),
            failing: failing.map(\.location).sorted(),
            required: required
        )
    }

    /// A location's first state for a property: the fleet's (a location joining, or a single instance upgraded
    /// from before locations, starts from what the fleet has confirmed), with nothing advised yet.
    static func seed(from fleet: PropertyState) -> PropertyState {
        var state = fleet
        state.announced = .healthy
        state.openIncidentID = nil
        state.silencedUntil = nil
        return state
    }

    /// A location's own debounce step, noting since when its confirmed state holds.
    static func ownStep(_ result: ProbeResult, seen: PropertyState, policy: Debounce.Policy, now: Date)
        -> Debounce.Step
    {
        var step = Debounce.apply(result, to: seen, policy: policy, now: now)
        if step.state.health != seen.health || step.state.since == nil { step.state.since = now }
        return step
    }

    /// The fleet's debounce step: the property follows the quorum's verdict (each location has debounced its
    /// own probes already); `location` is the reporting location's own step, whose confirmation time is kept.
    static func fleetStep(
        previous: PropertyState,
        result: ProbeResult,
        decision: QuorumDecision,
        location: Debounce.Step
    ) -> Debounce.Step {
        var state = previous
        state.lastResult = result
        state.lastObserved = location.state.lastObserved
        state.sameCount = location.state.sameCount
        state.consecutiveFailures = location.state.consecutiveFailures
        state.consecutiveSuccesses = location.state.consecutiveSuccesses
        var transition: Transition?
        if decision.health != previous.health {
            transition = Transition(from: previous.health, to: decision.health)
            state.health = decision.health
        }
        return Debounce.Step(state: state, transition: transition, confirmAt: location.confirmAt)
    }
}

/// A location that sees a property failing while the quorum does not (or that sees it healthy again after
/// that): announced once each way, never an incident, never a page.
public struct LocationAdvisory: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case failingAlone = "failing_alone", cleared }

    public var kind: Kind
    public var location: String
    /// What the location sees (its own confirmed state).
    public var sees: Health
    /// Since when (the confirmation that started the advisory).
    public var since: Date
    public var decision: QuorumDecision
}

extension Quorum {
    /// Failing probes a location waits beyond its own confirmation before it calls itself alone: in a fleet-wide
    /// outage the other locations confirm within a probe or so of the first, which then is not alone at all.
    static let advisoryPatience = 2

    /// The advisory `location`'s own step calls for, if any; `own.announced` records what was advised, so each
    /// advisory and its clearing are queued once. A failure is advised only once it has lasted
    /// ``advisoryPatience`` probes beyond `policy`'s confirmation with the quorum still healthy.
    static func advisory(
        own: inout PropertyState,
        location: String,
        decision: QuorumDecision,
        policy: Debounce.Policy,
        now: Date
    ) -> LocationAdvisory? {
        if decision.belowQuorum.contains(location), own.announced == .healthy,
            own.consecutiveFailures >= policy.failureThreshold + advisoryPatience
        {
            own.announced = own.health
            return LocationAdvisory(
                kind: .failingAlone,
                location: location,
                sees: own.health,
                since: now,
                decision: decision
            )
        }
        if own.health == .healthy, own.announced != .healthy {
            own.announced = .healthy
            return LocationAdvisory(kind: .cleared, location: location, sees: .healthy, since: now, decision: decision)
        }
        return nil
    }
}
