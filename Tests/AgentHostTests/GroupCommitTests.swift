import Foundation
import Testing
import ZumikTestSupport

@testable import AgentHost

#if canImport(Glibc)
import Glibc
#endif

/// The audit log's group commit (issue 16): concurrent runs' records share one write and one
/// `fdatasync`, each caller returns only once its own record is durable, a failed sync fails every
/// caller of its batch, and records keep their order.
@Suite struct GroupCommitTests {
    /// What the writes saw, in order, and on which thread.
    final class Writes: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [[Int]] = []
        private var threads: [pthread_t] = []
        private var outcomes: [Int: Bool] = [:]

        func wrote(_ batch: [Int]) {
            lock.withLock {
                batches.append(batch)
                threads.append(pthread_self())
            }
        }
        func finished(_ caller: Int, ok: Bool) { lock.withLock { outcomes[caller] = ok } }
        var written: [[Int]] { lock.withLock { batches } }
        var writers: [pthread_t] { lock.withLock { threads } }
        var results: [Int: Bool] { lock.withLock { outcomes } }
    }

    /// Waits (bounded) until `condition` holds.
    func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            try #require(ContinuousClock.now < deadline, "timed out waiting until \(what)")
            usleep(1000)
        }
    }

    /// Caller 0 leads a batch whose write is held at `gate`; callers 1…5 queue behind it one after
    /// another; then the gate opens. `failing` makes the write of batches containing it throw.
    func heldBatch(failing: Int? = nil) throws -> (GroupCommit<Int>, Writes) {
        let commits = GroupCommit<Int>()
        let writes = Writes()
        let entered = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        func call(_ caller: Int) {
            done.enter()
            BlockingThread.start(name: "test-caller") {
                do {
                    try commits.commit([caller]) { (batch: [Int]) throws(AuditLog.Error) in
                        if batch.first == 0 {
                            entered.signal()
                            gate.wait()
                        }
                        writes.wrote(batch)
                        if let failing, batch.contains(failing) {
                            throw AuditLog.Error(description: "audit log test: fdatasync failed: EIO")
                        }
                    }
                    writes.finished(caller, ok: true)
                } catch {
                    writes.finished(caller, ok: false)
                }
                done.leave()
            }
        }
        call(0)
        entered.wait()
        for caller in 1...5 {
            call(caller)
            try waitUntil("caller \(caller) queued") { commits.waitingEntries == caller }
        }
        #expect(writes.results.isEmpty, "nobody returns before their batch is written")
        gate.signal()
        done.wait()
        return (commits, writes)
    }

    @Test func aLoneCallerWritesItsOwnRecordAtOnce() throws {
        let commits = GroupCommit<Int>()
        let writes = Writes()
        try commits.commit([7]) { (batch: [Int]) throws(AuditLog.Error) in writes.wrote(batch) }
        #expect(writes.written == [[7]])
        #expect(writes.writers.count == 1 && pthread_equal(writes.writers[0], pthread_self()) != 0, "no hand-off")
        #expect(commits.batchCount == 1)
    }

    @Test func concurrentCallersShareOneWriteInArrivalOrder() throws {
        let (commits, writes) = try heldBatch()
        #expect(writes.written == [[0], [1, 2, 3, 4, 5]])
        #expect(commits.batchCount == 2)
        #expect(writes.results == [0: true, 1: true, 2: true, 3: true, 4: true, 5: true])
    }

    @Test func aFailedSyncFailsEveryCallerOfThatBatchOnly() throws {
        let (commits, writes) = try heldBatch(failing: 3)
        #expect(writes.written == [[0], [1, 2, 3, 4, 5]])
        #expect(writes.results == [0: true, 1: false, 2: false, 3: false, 4: false, 5: false])
        // The next batch is written again.
        try commits.commit([6]) { (batch: [Int]) throws(AuditLog.Error) in writes.wrote(batch) }
        #expect(writes.written.last == [6])
    }

    @Test func concurrentRunsEachGetTheirRecordDurableInTheFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("audit.jsonl")
        let log = try AuditLog(path: path)
        let done = DispatchGroup()
        let failures = Writes()
        for index in 0..<32 {
            done.enter()
            BlockingThread.start(name: "test-run") {
                let record = AuditRecord(
                    auditID: "a_\(index)",
                    time: AuditLog.timestamp(),
                    requestID: "r-\(index)",
                    clientIP: "127.0.0.1",
                    method: "POST",
                    action: "bench_true",
                    outcome: AuditRecord.Outcome.started,
                    status: 0
                )
                do {
                    try log.appendRun(record)
                    // Returned: the record is in the file (its batch was written and synced).
                    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    failures.finished(index, ok: text.contains("\"audit_id\":\"a_\(index)\""))
                } catch {
                    failures.finished(index, ok: false)
                }
                done.leave()
            }
        }
        done.wait()
        #expect(failures.results.count == 32 && failures.results.values.allSatisfy { $0 })
        let ids = log.recent(limit: 100).map(\.auditID)
        #expect(ids.count == 32 && Set(ids).count == 32, "every record once, each on a whole line")
        print("group commit: 32 concurrent records in \(log.commits.batchCount) synced writes")
        #expect(log.commits.batchCount <= 32)
    }

    @Test func recordsKeepTheirOrder() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.jsonl"))
        for index in 0..<20 {
            try log.appendRun(
                AuditRecord(
                    auditID: "a_\(index)",
                    time: AuditLog.timestamp(),
                    requestID: "r",
                    clientIP: "127.0.0.1",
                    method: "POST",
                    action: "x",
                    outcome: index % 2 == 0 ? "started" : "succeeded",
                    status: 0
                )
            )
        }
        #expect(log.recent(limit: 100).map(\.auditID) == (0..<20).map { "a_\($0)" })
    }
}
