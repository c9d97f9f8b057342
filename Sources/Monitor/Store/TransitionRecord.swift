import ActionKit
import Probing

/// The record both backends append to an incident for a transition (kind `transition`).
enum TransitionRecord {
    static func payload(_ transition: Transition, _ result: ProbeResult) -> JSONValue {
        .object([
            "property": .string(result.property), "url": .string(result.url),
            "status": result.status.map { .number(Double($0)) } ?? .null,
            "latency": .string(AlertFormatter.latency(result.timings)),
            "from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue),
            "reasons": .array(result.reasons.map { .string($0) }),
        ])
    }
}
