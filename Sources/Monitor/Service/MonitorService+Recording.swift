import Foundation
import Logging
import Probing

/// How the loop's results reach the store: each result's history sample and record in one transaction, and
/// results that end while another batch is being written group-committed with it (`GroupRecorder`): one
/// transaction and one commit for the batch, every caller answered only once its own result is written. So a
/// cycle of many properties pays one commit per batch, not two per result, and only one write at a time holds
/// a thread of the cooperative pool (SQLite writes are synchronous).
extension MonitorService {
    /// What became of one result sent to the store.
    enum RecordAttempt: Sendable {
        case recorded(RecordOutcome)
        /// The store could not be reached: nothing of the result's record was written (its sample, when
        /// `sampleKept`); the caller keeps it for later.
        case unavailable(sampleKept: Bool)
        /// The record failed for another reason: the observation is lost (the next probe repeats it).
        case failed(any Error)
    }

    /// What `store.record` needs for `result` of `property` (no history sample yet).
    func recordRequest(_ result: ProbeResult, property: PropertyConfig, replayed: Bool) -> RecordRequest {
        let config = self.config
        return RecordRequest(
            result,
            at: LocationContext(
                name: config.store.location,
                liveWindow: config.locationLiveWindow,
                quorum: property.quorum,
                replay: replayed
            ),
            policy: policy(for: property),
            incidentGroup: property.incidentGroup,
            now: result.at,
            message: AlertFormatter.transitionMessage(editMessages: config.onCall.editMessages)
        )
    }

    /// Records `request` with whatever other results are waiting (`GroupRecorder`).
    func recordGrouped(_ request: RecordRequest) async -> RecordAttempt {
        await recorder.record(request) { batch in await self.recordBatch(batch) }
    }

    /// One batch in one transaction. Unreachable store: every result is kept. Any other failure rolled the
    /// whole batch back, so each result is recorded again on its own (its sample and record in separate
    /// transactions, as before batching): one bad result never costs the others theirs.
    func recordBatch(_ requests: [RecordRequest]) async -> [RecordAttempt] {
        do {
            let outcomes = try await store.record(batch: requests)
            guard outcomes.count == requests.count else {
                throw StoreBatchMismatch(requests: requests.count, outcomes: outcomes.count)
            }
            return outcomes.map { .recorded($0) }
        } catch is StoreUnavailable {
            return requests.map { _ in .unavailable(sampleKept: false) }
        } catch {
            logger.warning(
                "cannot record probe results together; recording each on its own",
                metadata: ["store.batch": .stringConvertible(requests.count), "error": "\(error)"]
            )
            var attempts: [RecordAttempt] = []
            for request in requests { attempts.append(await recordAlone(request)) }
            return attempts
        }
    }

    /// One result on its own: its sample (a failure costs only the history this probe), then its record.
    func recordAlone(_ request: RecordRequest) async -> RecordAttempt {
        var sampleKept = request.sample == nil
        if let sample = request.sample {
            do {
                try await history?.appendSample(sample)
                sampleKept = true
            } catch is StoreUnavailable {
                return .unavailable(sampleKept: false)
            } catch {
                logger.error(
                    "cannot keep probe result in the history",
                    metadata: Self.metadata(request.result).merging(["error": "\(error)"]) { $1 }
                )
            }
        }
        do {
            return .recorded(try await store.record(request))
        } catch is StoreUnavailable {
            return .unavailable(sampleKept: sampleKept)
        } catch {
            return .failed(error)
        }
    }

    /// Whether the history is the store itself (the runtime's case), so a sample can join its result's record
    /// in one transaction; a history of its own gets each sample first, on its own.
    var historyIsTheStore: Bool {
        guard let history else { return false }
        return (history as AnyObject) === (store as AnyObject)
    }
}

/// A store answered a batch with another number of outcomes than it was given results (a broken backend): the
/// batch is recorded again one result at a time.
struct StoreBatchMismatch: Error, CustomStringConvertible {
    var requests: Int
    var outcomes: Int
    var description: String { "the store answered \(outcomes) outcomes for a batch of \(requests) results" }
}
