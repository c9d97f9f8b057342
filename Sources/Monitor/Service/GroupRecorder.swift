import Synchronization

/// Group commit of probe results: results that end while another batch is being written are recorded
/// together, in one transaction and one commit, instead of queueing for the store's writer one by one.
///
/// The first caller to find no write under way leads: it writes its own request at once (a lone result waits
/// for nobody). Callers arriving meanwhile wait; when the write ends, the leader hands each of its batch its
/// answer and the first waiter leads the next batch, made of every request that arrived meanwhile. So at most
/// one batch is written at a time, and each caller returns only once its own request was written (or failed).
///
/// `write` gets a batch in arrival order and answers one result per request, in the same order; only the
/// leader's is called.
final class GroupRecorder<Request: Sendable, Answer: Sendable>: Sendable {
    typealias Write = ([Request]) async -> [Answer]

    private enum Turn {
        case answered(Answer)
        case lead
    }

    private struct Waiter {
        var request: Request
        var continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var writing = false
        var waiting: [Waiter] = []
        var batches = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Writes `request` (with whatever others wait) and returns its answer.
    func record(_ request: Request, write: Write) async -> Answer {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = state.withLock { s in
                if s.writing {
                    s.waiting.append(Waiter(request: request, continuation: continuation))
                    return false
                }
                s.writing = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch turn {
        case .answered(let answer): return answer
        case .lead: return await lead(request, write: write)
        }
    }

    /// Batches written so far (each one `write`).
    var batchCount: Int { state.withLock { $0.batches } }

    /// Callers waiting for the batch under way to end (tests line callers up with it).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Writes `own` and every request waiting, answers the waiters, then hands the lead to the next waiter.
    private func lead(_ own: Request, write: Write) async -> Answer {
        let others = state.withLock { s in
            defer { s.waiting = [] }
            return s.waiting
        }
        let answers = await write([own] + others.map(\.request))
        for (waiter, answer) in zip(others, answers.dropFirst()) {
            waiter.continuation.resume(returning: .answered(answer))
        }
        let next: Waiter? = state.withLock { s in
            s.batches += 1
            guard !s.waiting.isEmpty else {
                s.writing = false
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return answers[0]
    }
}
