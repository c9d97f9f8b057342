import Foundation
import Probing

/// Backlogs replayed by several locations once the store answers again (`docs/multi-location.md`, "When the
/// database is unreachable"): each location's kept results are in order, but the fleet's are not.
extension Quorum {
    /// Whether `result`, kept while the store was unreachable, comes too late to decide anything: the fleet has
    /// already recorded a newer result for the property (another location's backlog or fresh probe). Such a
    /// result still steps the location's own debounce (what that location saw, in order: dropping it would let
    /// its next fresh probe start from before the outage and call a real outage healed), but not the fleet's
    /// state: it decides no transition and queues no advisory. A location's own backlog is in order, so a single
    /// instance never supersedes its own results; a live result recorded out of order (a slow probe) is never
    /// superseded.
    static func superseded(_ result: ProbeResult, at location: LocationContext, fleet: PropertyState) -> Bool {
        guard location.replay, let newest = fleet.lastResult?.at else { return false }
        return result.at < newest
    }
}

extension RecordOutcome {
    /// The outcome of a superseded result: the fleet's state as it was, nothing decided, nothing queued.
    static func superseded(fleet: PropertyState, now: Date) -> RecordOutcome {
        var outcome = RecordOutcome(
            state: fleet,
            transition: nil,
            confirmAt: nil,
            incident: nil,
            outboxID: nil,
            silenced: fleet.isSilenced(at: now)
        )
        outcome.superseded = true
        return outcome
    }
}
