import Synchronization

/// Refused requests counted per client and window: one summary record each, never one write per
/// refusal. Bounded: past `maxClients` clients in a window, the rest are counted under `other`.
final class RefusalTally: Sendable {
    private struct Entry {
        var summary: AuditRecord
        var counts: [String: Int]
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var windowOpen = false
    }

    let window: Duration
    let maxClients: Int
    private let state = Mutex(State())

    init(window: Duration, maxClients: Int = 1000) {
        self.window = window
        self.maxClients = maxClients
    }

    var windowSeconds: Double {
        let (seconds, attoseconds) = window.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Counts `record` (a refusal). True when it opened a new window (the caller schedules the flush).
    func add(_ record: AuditRecord, time: String) -> Bool {
        let maxClients = self.maxClients
        return state.withLock { state in
            let opened = !state.windowOpen
            state.windowOpen = true
            // One summary per client and channel (and, for MCP, the client's declared name).
            var client = record.clientIP
            var key = "\(client)|\(record.channel?.rawValue ?? "")|\(record.clientName ?? "")"
            if state.entries[key] == nil, state.entries.count >= maxClients {
                client = "other"
                key = client
            }
            var entry =
                state.entries[key]
                ?? Entry(
                    summary: AuditRecord(
                        auditID: AgentState.newAuditID(),
                        time: time,
                        requestID: record.requestID,
                        clientIP: client,
                        method: record.method,
                        action: record.action,
                        outcome: AuditRecord.Outcome.refused,
                        status: record.status,
                        channel: key == "other" ? nil : record.channel,
                        clientName: key == "other" ? nil : record.clientName
                    ),
                    counts: [:]
                )
            if entry.counts.isEmpty { state.order.append(key) }
            if entry.summary.action != record.action { entry.summary.action = "*" }
            if entry.summary.method != record.method { entry.summary.method = "*" }
            if entry.summary.status != record.status { entry.summary.status = 0 }
            entry.counts[record.outcome.isEmpty ? "refused" : record.outcome, default: 0] += 1
            entry.summary.until = time
            state.entries[key] = entry
            return opened
        }
    }

    /// The window's summaries, in order of first refusal; starts a new window.
    func drain() -> [AuditRecord] {
        state.withLock { state in
            let summaries = state.order.compactMap { key -> AuditRecord? in
                guard let entry = state.entries[key] else { return nil }
                var summary = entry.summary
                summary.refusals = entry.counts
                return summary
            }
            state = State()
            return summaries
        }
    }
}
