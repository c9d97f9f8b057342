public import Foundation
public import Probing

/// One probe result to record with others in one transaction (`MonitorStorage.record(batch:)`): the arguments
/// of `record(_:at:policy:incidentGroup:now:message:)`, and the result's history sample to keep in the same
/// transaction (nil: none, or kept already).
public struct RecordRequest: Sendable {
    public var result: ProbeResult
    public var sample: HistorySample?
    public var location: LocationContext
    public var policy: Debounce.Policy
    public var incidentGroup: String?
    public var now: Date
    public var message: @Sendable (AlertEvent) -> any OutboxMessage

    public init(
        _ result: ProbeResult,
        sample: HistorySample? = nil,
        at location: LocationContext = .solo,
        policy: Debounce.Policy,
        incidentGroup: String? = nil,
        now: Date,
        message: @escaping @Sendable (AlertEvent) -> any OutboxMessage
    ) {
        self.result = result
        self.sample = sample
        self.location = location
        self.policy = policy
        self.incidentGroup = incidentGroup
        self.now = now
        self.message = message
    }
}
