import ActionKit
import Probing

/// The record both backends append to an incident for a transition (kind `transition`).
enum TransitionRecord {
    static func payload(_ transition: Transition, _ result: ProbeResult) -> JSONValue {
        .object([
            "from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue),
            "reasons": .array(result.reasons.map { .string($0) }),
        ])
    }
}
