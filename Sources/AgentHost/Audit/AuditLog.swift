import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// How the audit log rotates: by size, keeping `retain` rotated files (`audit.jsonl.1` newest).
public struct AuditRotation: Sendable, Hashable {
    /// The size past which the next record starts a new file.
    public var maxBytes: Int
    /// Rotated files kept beside the live one (at least 1).
    public var retain: Int

    public init(maxBytes: Int = 16 << 20, retain: Int = 8) {
        self.maxBytes = maxBytes
        self.retain = max(1, retain)
    }
}

/// An append-only JSONL file.
///
/// A run's records (``appendRun(_:keepIfFailed:)``) are durable when the call returns: written on an
/// `O_APPEND` descriptor and `fdatasync`ed. Concurrent calls are group-committed (``GroupCommit``):
/// the records that arrive while one batch is being synced go together in the next, with one
/// `write` and one `fdatasync`; a failure fails every call of its batch. A failed write is cut back
/// to the last whole record (or, if that fails too, the next record starts on a fresh line), so a
/// torn tail never makes a later record unreadable. Refusals (``append(_:)``) are only counted, and
/// written as one summary per client and window. The file rotates by size between whole records.
public final class AuditLog: Sendable {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    public let rotation: AuditRotation
    private let writer: Mutex<AuditWriter>
    /// Batches concurrent runs' records into one write and sync.
    let commits = GroupCommit<AuditWriter.Entry>()
    private let tally: RefusalTally
    private let lastWriteFailed = Mutex(false)
    private let writeFailures = Mutex(0)
    /// Audit writes that failed since the start (`zumik_agent_audit_write_failures_total`).
    public var writeFailureCount: Int { writeFailures.withLock { $0 } }

    /// False after a durable write failed, until one succeeds.
    public var isHealthy: Bool { !lastWriteFailed.withLock { $0 } }

    /// Opens (creating, mode 0600) the log at `path`.
    public init(
        path: String,
        rotation: AuditRotation = AuditRotation(),
        refusalWindow: Duration = .seconds(60)
    ) throws(AuditLog.Error) {
        self.path = path
        self.rotation = rotation
        self.writer = Mutex(try AuditWriter(path: path))
        self.tally = RefusalTally(window: refusalWindow)
    }

    deinit {
        flushRefusals()
        writer.withLock { $0.close() }
    }

    /// Every file of the log, newest first: the live file, then `.1`, `.2`, ….
    public var files: [String] { [path] + (1...rotation.retain).map { "\(path).\($0)" } }

    /// Makes one record of a run durable; throws if it could not be. Blocks the calling thread
    /// (a run's own thread) until its batch is synced.
    ///
    /// - Parameter keepIfFailed: a completion that cannot be written now is kept and written
    ///   before the next record (the run happened; its record must not be dropped).
    public func appendRun(_ record: AuditRecord, keepIfFailed: Bool = false) throws(AuditLog.Error) {
        let line = try Self.encode(record.cleaned, path: path)
        try writeDurably([line], keepIfFailed: keepIfFailed)
    }

    /// Counts a refused request for its client's summary. Never writes or syncs by itself: the
    /// summaries are written when the window ends (and by ``flushRefusals()``).
    public func append(_ record: AuditRecord) throws(AuditLog.Error) {
        guard tally.add(record.cleaned, time: record.time) else { return }
        // First refusal of a window: write its summaries when the window ends.
        DispatchQueue.global().asyncAfter(deadline: .now() + tally.windowSeconds) { [weak self] in
            self?.flushRefusals()
        }
    }

    /// Writes the refusal summaries counted so far (one sync for all of them).
    public func flushRefusals() {
        let summaries = tally.drain()
        guard !summaries.isEmpty else { return }
        let path = self.path
        let lines = summaries.compactMap { try? Self.encode($0, path: path) }
        try? writeDurably(lines, keepIfFailed: true)
    }

    private func writeDurably(_ lines: [[UInt8]], keepIfFailed: Bool) throws(AuditLog.Error) {
        let rotation = self.rotation
        let entries = lines.map { AuditWriter.Entry(line: $0, keepIfFailed: keepIfFailed) }
        do {
            try commits.commit(entries) { (batch: [AuditWriter.Entry]) throws(AuditLog.Error) in
                try writer.withLock { (writer: inout AuditWriter) throws(AuditLog.Error) in
                    try writer.append(batch, rotation: rotation)
                }
            }
            lastWriteFailed.withLock { $0 = false }
        } catch {
            lastWriteFailed.withLock { $0 = true }
            writeFailures.withLock { $0 += 1 }
            throw error
        }
    }

    static func encode(_ record: AuditRecord, path: String) throws(AuditLog.Error) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record) else {
            throw Error(description: "audit log \(path): cannot encode record")
        }
        var line = [UInt8](data)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
