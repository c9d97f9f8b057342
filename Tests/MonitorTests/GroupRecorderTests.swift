import Synchronization
import Testing

@testable import Monitor

/// `GroupRecorder`, the monitor's group commit of probe results: callers that arrive while a batch is being
/// written are written together in the next one, each gets its own answer, and batches never overlap.
@Suite struct GroupRecorderTests {
    /// A write that holds its first batch until released, and notes every batch it was given.
    final class GatedWrite: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let overlapping = Mutex((now: 0, most: 0))

        func write(_ batch: [Int]) async -> [String] {
            overlapping.withLock { o in
                o.now += 1
                o.most = max(o.most, o.now)
            }
            let first = batches.withLock { b in
                b.append(batch)
                return b.count == 1
            }
            if first { await withCheckedContinuation { c in gate.withLock { $0 = c } } }
            overlapping.withLock { $0.now -= 1 }
            return batch.map { "answer \($0)" }
        }

        func release() { gate.withLock { $0?.resume() } }
        var held: Bool { gate.withLock { $0 != nil } }
    }

    @Test func callersArrivingDuringAWriteAreWrittenTogether() async throws {
        let recorder = GroupRecorder<Int, String>()
        let write = GatedWrite()
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            group.addTask { (1, await recorder.record(1) { await write.write($0) }) }
            #expect(await waitFor(.seconds(10)) { write.held })
            for request in 2...6 {
                group.addTask { (request, await recorder.record(request) { await write.write($0) }) }
            }
            #expect(await waitFor(.seconds(10)) { recorder.waitingCount == 5 })
            write.release()
            var answers: [Int: String] = [:]
            for try await (request, answer) in group { answers[request] = answer }
            #expect(answers == Dictionary(uniqueKeysWithValues: (1...6).map { ($0, "answer \($0)") }))
        }
        let batches = write.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == [1])
        #expect(batches.last.map { Set($0) } == Set(2...6))
        #expect(write.overlapping.withLock { $0.most } == 1)
        #expect(recorder.batchCount == 2)
    }

    @Test func aLoneCallerIsWrittenAtOnce() async {
        let recorder = GroupRecorder<Int, String>()
        let write = GatedWrite()
        write.batches.withLock { $0 = [[0]] }  // not the first batch: not held
        #expect(await recorder.record(7) { await write.write($0) } == "answer 7")
        #expect(await recorder.record(8) { await write.write($0) } == "answer 8")
        #expect(write.batches.withLock { $0 } == [[0], [7], [8]])
    }
}
