import Foundation
import Monitor
import Probing
import Testing

/// The pure debounce state machine, driven with explicit times (no clock, no sleeping).
@Suite struct DebounceTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = Debounce.Policy(failureThreshold: 2, successThreshold: 1, confirmationDelay: .seconds(10))

    func result(_ health: Health) -> ProbeResult {
        ProbeResult(property: "api", url: "https://api.zumik.ai/healthz", at: t0, health: health)
    }

    /// Feeds observations one per minute; returns each step.
    func run(_ observations: [Health], policy: Debounce.Policy? = nil, from start: PropertyState? = nil)
        -> [Debounce.Step]
    {
        var state = start ?? PropertyState(name: "api")
        var steps: [Debounce.Step] = []
        for (i, health) in observations.enumerated() {
            let step = Debounce.apply(
                result(health),
                to: state,
                policy: policy ?? self.policy,
                now: t0.addingTimeInterval(Double(i) * 60)
            )
            steps.append(step)
            state = step.state
        }
        return steps
    }

    @Test func oneBlipIsIgnoredButConfirmed() {
        let steps = run([.down, .healthy])
        #expect(steps[0].transition == nil)
        #expect(steps[0].state.health == .healthy)
        #expect(steps[0].confirmAt == t0.addingTimeInterval(10))
        #expect(steps[1].transition == nil)
        #expect(steps[1].state.consecutiveFailures == 0)
        #expect(steps[1].confirmAt == nil)
    }

    @Test func secondConsecutiveFailureOpensIncident() {
        let steps = run([.down, .down])
        #expect(steps[1].transition == Transition(from: .healthy, to: .down))
        #expect(steps[1].transition?.kind == .opened)
        #expect(steps[1].state.health == .down)
        #expect(steps[1].confirmAt == nil)
    }

    @Test func mixedFailuresOpenAtLatestObservedState() {
        let steps = run([.degraded, .down])
        #expect(steps[1].transition == Transition(from: .healthy, to: .down))
    }

    @Test func recoveryAfterSuccessThreshold() {
        let strict = Debounce.Policy(failureThreshold: 2, successThreshold: 3, confirmationDelay: .seconds(5))
        let steps = run([.down, .down, .healthy, .healthy, .healthy], policy: strict)
        #expect(steps[2].transition == nil)
        #expect(steps[2].confirmAt != nil)
        #expect(steps[3].transition == nil)
        #expect(steps[4].transition == Transition(from: .down, to: .healthy))
        #expect(steps[4].transition?.kind == .recovered)
    }

    @Test func recoveryInterruptedByFailureStartsOver() {
        let strict = Debounce.Policy(failureThreshold: 2, successThreshold: 2, confirmationDelay: nil)
        let steps = run([.down, .down, .healthy, .down, .healthy, .healthy], policy: strict)
        #expect(steps[1].transition?.kind == .opened)
        #expect(steps[2...4].allSatisfy { $0.transition == nil })
        #expect(steps[5].transition?.kind == .recovered)
    }

    @Test func degradedAndDownMoveBothWaysWithDebounce() {
        let steps = run([.degraded, .degraded, .down, .down, .degraded, .degraded, .healthy])
        #expect(steps[1].transition == Transition(from: .healthy, to: .degraded))
        #expect(steps[2].transition == nil)
        #expect(steps[3].transition == Transition(from: .degraded, to: .down))
        #expect(steps[3].transition?.kind == .escalated)
        #expect(steps[4].transition == nil)
        #expect(steps[5].transition == Transition(from: .down, to: .degraded))
        #expect(steps[5].transition?.kind == .deescalated)
        #expect(steps[6].transition == Transition(from: .degraded, to: .healthy))
    }

    @Test func disabledConfirmationSchedulesNothing() {
        let policy = Debounce.Policy(confirmationDelay: nil)
        let steps = run([.down], policy: policy)
        #expect(steps[0].confirmAt == nil)
    }

    @Test func thresholdBelowTwoIsRaisedToTwo() {
        #expect(Debounce.Policy(failureThreshold: 1).failureThreshold == 2)
        let steps = run([.down], policy: Debounce.Policy(failureThreshold: 1))
        #expect(steps[0].transition == nil)
    }

    @Test func steadyStateProducesNoTransitions() {
        let steps = run(Array(repeating: .healthy, count: 5) + [.down, .down] + Array(repeating: .down, count: 5))
        #expect(steps.compactMap(\.transition).count == 1)
    }
}
