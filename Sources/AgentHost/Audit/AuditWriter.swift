import ServerSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

/// The audit log's descriptor and what is known about its tail. Used under the log's lock.
struct AuditWriter {
    let path: String
    private var fd: Int32
    /// Bytes of whole records in the live file.
    private var size: Int
    /// A failed write could not be cut back: the next record starts with a newline.
    private var freshLine: Bool
    /// Completions that could not be written yet.
    private var pending: [[UInt8]] = []

    init(path: String) throws(AuditLog.Error) {
        self.path = path
        let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AuditLog.Error(description: "audit log \(path): cannot open: \(Self.errnoText())")
        }
        fd = descriptor
        let tail = Self.tail(of: descriptor)
        size = tail.size
        freshLine = tail.torn
    }

    mutating func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// One record's line, and whether it is kept for the next write if this one fails (a
    /// completion: the run happened) or dropped with the failure (an intent: nothing runs).
    struct Entry {
        var line: [UInt8]
        var keepIfFailed: Bool
    }

    /// Writes `entries` (after any pending ones) with one `write` and syncs them with one
    /// `fdatasync`; on failure the file is cut back to its last whole record.
    mutating func append(_ entries: [Entry], rotation: AuditRotation) throws(AuditLog.Error) {
        var payload: [UInt8] = freshLine ? [UInt8(ascii: "\n")] : []
        for line in pending { payload.append(contentsOf: line) }
        for entry in entries { payload.append(contentsOf: entry.line) }
        if size > 0, size + payload.count > rotation.maxBytes { rotate(retain: rotation.retain) }
        do throws(AuditLog.Error) {
            try writeAll(payload)
            guard fdatasync(fd) == 0 else {
                throw AuditLog.Error(description: "audit log \(path): fdatasync failed: \(Self.errnoText())")
            }
        } catch {
            // Whatever reached the file is cut off: a record is either whole and durable or absent.
            if ftruncate(fd, off_t(size)) != 0 { freshLine = true }
            pending.append(contentsOf: entries.filter(\.keepIfFailed).map(\.line))
            throw error
        }
        size += payload.count
        freshLine = false
        pending = []
    }

    private func writeAll(_ bytes: [UInt8]) throws(AuditLog.Error) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditLog.Error(description: "audit log \(path): write failed: \(Self.errnoText())")
            }
            offset += written
        }
    }

    /// `audit.jsonl` → `.1` → `.2` … (the oldest beyond `retain` is removed), a new live file, and
    /// the directory synced. Between whole records only; on any failure the current file is kept.
    private mutating func rotate(retain: Int) {
        unlink("\(path).\(retain)")
        for index in stride(from: retain, through: 2, by: -1) {
            rename("\(path).\(index - 1)", "\(path).\(index)")
        }
        guard rename(path, "\(path).1") == 0 else { return }
        let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            // Keep appending to the renamed file (the reader reads rotated files too).
            rename("\(path).1", path)
            return
        }
        Self.syncDirectory(of: path)
        _ = Glibc.close(fd)
        fd = descriptor
        size = 0
        freshLine = false
    }

    /// The file's size and whether it ends mid-line (a torn record from an earlier crash).
    private static func tail(of fd: Int32) -> (size: Int, torn: Bool) {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return (0, false) }
        var last: UInt8 = 0
        let read = pread(fd, &last, 1, info.st_size - 1)
        return (Int(info.st_size), read == 1 && last != UInt8(ascii: "\n"))
    }

    static func syncDirectory(of path: String) {
        let directory = PathText.directory(of: path)
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = Glibc.close(fd)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
