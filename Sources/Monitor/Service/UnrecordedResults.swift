import Foundation
import Probing
import Synchronization

/// Probe results the store could not take (it was unreachable), kept in memory in probe order, per property, to
/// be recorded before the property's next result once the store answers again: the debounce then steps through
/// what was really observed, so no transition is invented and none is lost.
///
/// Bounded: at most ``limit`` results per property (the oldest are dropped first, and counted); with
/// `interval: 60s` that is the last half hour of an outage. Also keeps each property's newest result for the
/// status report while the store cannot be read.
final class UnrecordedResults: Sendable {
    /// One result waiting to be recorded; `sampleKept` once its history sample was written.
    struct Item: Sendable {
        var result: ProbeResult
        var sampleKept = false
    }

    static let limit = 32

    private struct State {
        var waiting: [String: [Item]] = [:]
        var newest: [String: ProbeResult] = [:]
        var dropped = 0
    }

    private let state = Mutex(State())

    /// Takes the property's waiting results, oldest first, with `result` last.
    func take(_ result: ProbeResult) -> [Item] {
        state.withLock { s in
            s.newest[result.property] = result
            return (s.waiting.removeValue(forKey: result.property) ?? []) + [Item(result: result)]
        }
    }

    /// Puts back results not recorded (oldest first), ahead of any kept meanwhile; drops the oldest beyond the
    /// limit. Returns how many were dropped.
    @discardableResult
    func putBack(_ items: [Item], property: String) -> Int {
        state.withLock { s in
            let all = items + (s.waiting[property] ?? [])
            let dropped = max(0, all.count - Self.limit)
            s.waiting[property] = Array(all.suffix(Self.limit))
            s.dropped += dropped
            return dropped
        }
    }

    /// Results waiting, all properties.
    var count: Int { state.withLock { s in s.waiting.values.reduce(0) { $0 + $1.count } } }

    /// Each property's newest result (recorded or not).
    var newest: [String: ProbeResult] { state.withLock { $0.newest } }
}
