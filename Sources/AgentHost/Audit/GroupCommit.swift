#if canImport(Glibc)
import Glibc
#endif

/// Group commit: concurrent callers' records made durable by one write and one sync.
///
/// Each caller adds its entries to the open batch and waits until that batch is durable. The first
/// caller to find no write under way becomes the leader: it takes the open batch (its own entries
/// and whatever others added while the previous batch was being written), writes and syncs it
/// with the `write` it was given, and wakes every caller of that batch; the next waiter then leads the next batch.
/// So a lone caller writes its own record at once (no hand-off to another thread), and under
/// concurrency one `fdatasync` covers many records.
///
/// Guarantees: a call returns only after its batch's `write` returned; if that `write` threw, every
/// caller of the batch gets the error; entries are written in the order the calls added them, and
/// batches one after another, never overlapping.
///
/// Callers block (a pthread condition variable): call it from a thread of its own, never from the
/// cooperative pool or an event loop.
final class GroupCommit<Entry>: @unchecked Sendable {
    // Sendable: every field is read and written under `mutex`.
    typealias Write = ([Entry]) throws(AuditLog.Error) -> Void

    private final class Batch {
        var entries: [Entry] = []
        var done = false
        var error: AuditLog.Error?
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var open = Batch()
    private var writing = false
    /// Batches written (each one `write`), for the metrics and tests.
    private var batches = 0

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Adds `entries` to the open batch and returns once that batch is durable; throws the batch's
    /// failure. `write` writes and syncs a whole batch; it is called only if this caller leads.
    func commit(_ entries: [Entry], write: Write) throws(AuditLog.Error) {
        pthread_mutex_lock(mutex)
        let mine = open
        mine.entries.append(contentsOf: entries)
        while !mine.done {
            if writing {
                pthread_cond_wait(condition, mutex)
                continue
            }
            // Lead: the open batch is necessarily ours (an earlier one would be written already).
            writing = true
            let batch = open
            open = Batch()
            pthread_mutex_unlock(mutex)
            var failure: AuditLog.Error?
            do {
                try write(batch.entries)
            } catch {
                failure = error
            }
            pthread_mutex_lock(mutex)
            batch.done = true
            batch.error = failure
            batches += 1
            writing = false
            pthread_cond_broadcast(condition)
        }
        pthread_mutex_unlock(mutex)
        if let error = mine.error { throw error }
    }

    /// How many batches have been written.
    var batchCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return batches
    }

    /// Entries waiting in the open batch (tests wait on it to line callers up).
    var waitingEntries: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return open.entries.count
    }
}
