public import Foundation
public import Probing

/// Persisted debounce state of one property.
public struct PropertyState: Sendable, Hashable, Codable {
    public var name: String
    /// The debounced (confirmed) state.
    public var health: Health
    /// The last state announced to Discord; differs from `health` only while silenced.
    public var announced: Health
    /// Consecutive non-healthy observations.
    public var consecutiveFailures: Int
    /// Consecutive healthy observations.
    public var consecutiveSuccesses: Int
    /// The latest observation and how many times in a row it was seen.
    public var lastObserved: Health?
    public var sameCount: Int
    public var openIncidentID: IncidentID?
    /// Maintenance: probes continue, alerts and remediation pause until this time.
    public var silencedUntil: Date?
    public var lastResult: ProbeResult?
    /// When `health` last changed (kept for each location's own state; nil before it was kept).
    public var since: Date?

    public init(name: String) {
        self.name = name
        health = .healthy
        announced = .healthy
        consecutiveFailures = 0
        consecutiveSuccesses = 0
        lastObserved = nil
        sameCount = 0
        openIncidentID = nil
        silencedUntil = nil
        lastResult = nil
        since = nil
    }

    public func isSilenced(at now: Date) -> Bool { silencedUntil.map { $0 > now } ?? false }
}

/// A confirmed change of state.
public struct Transition: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// healthy → degraded/down: an incident opens.
        case opened
        /// degraded → down.
        case escalated
        /// down → degraded.
        case deescalated
        /// → healthy: the incident closes.
        case recovered
    }

    public var from: Health
    public var to: Health
    public var kind: Kind

    public init(from: Health, to: Health) {
        self.from = from
        self.to = to
        if to == .healthy {
            kind = .recovered
        } else if from == .healthy {
            kind = .opened
        } else {
            kind = to == .down ? .escalated : .deescalated
        }
    }
}

/// The pure debounce state machine. Time comes in as `now`; nothing here waits or reads a clock.
///
/// - One non-healthy probe is a blip: no transition, but a confirmation probe is asked for after
///   `confirmationDelay`.
/// - `failureThreshold` (≥ 2) consecutive non-healthy probes move a healthy property to the latest observed
///   state (an incident opens).
/// - Between degraded and down, the new state must be seen `failureThreshold` times in a row.
/// - `successThreshold` consecutive healthy probes recover it (the incident closes).
public enum Debounce {
    public struct Policy: Sendable, Hashable {
        public var failureThreshold: Int
        public var successThreshold: Int
        public var confirmationDelay: Duration?

        public init(failureThreshold: Int = 2, successThreshold: Int = 1, confirmationDelay: Duration? = .seconds(10)) {
            self.failureThreshold = max(2, failureThreshold)
            self.successThreshold = max(1, successThreshold)
            self.confirmationDelay = confirmationDelay
        }
    }

    public struct Step: Sendable, Hashable {
        public var state: PropertyState
        public var transition: Transition?
        /// When to run an early confirmation probe (nil: the next regular cycle is soon enough).
        public var confirmAt: Date?
    }

    public static func apply(_ result: ProbeResult, to previous: PropertyState, policy: Policy, now: Date) -> Step {
        var state = previous
        let observed = result.health
        state.lastResult = result
        state.sameCount = state.lastObserved == observed ? state.sameCount + 1 : 1
        state.lastObserved = observed
        if observed == .healthy {
            state.consecutiveFailures = 0
            state.consecutiveSuccesses += 1
        } else {
            state.consecutiveSuccesses = 0
            state.consecutiveFailures += 1
        }
        var transition: Transition?
        if observed == .healthy {
            if state.health != .healthy, state.consecutiveSuccesses >= policy.successThreshold {
                transition = Transition(from: state.health, to: .healthy)
            }
        } else if state.health == .healthy {
            if state.consecutiveFailures >= policy.failureThreshold {
                transition = Transition(from: .healthy, to: observed)
            }
        } else if state.health != observed, state.sameCount >= policy.failureThreshold {
            transition = Transition(from: state.health, to: observed)
        }
        if let transition { state.health = transition.to }
        var confirmAt: Date?
        if transition == nil, observed != state.health, let delay = policy.confirmationDelay {
            confirmAt = now.addingTimeInterval(delay.timeInterval)
        }
        return Step(state: state, transition: transition, confirmAt: confirmAt)
    }
}
