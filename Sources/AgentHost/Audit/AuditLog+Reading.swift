#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#endif

extension AuditLog {
    /// The last `limit` records, oldest first, across rotated files. Lines that do not parse (a
    /// torn tail) are skipped.
    public func recent(limit: Int) -> [AuditRecord] {
        guard limit > 0 else { return [] }
        var collected: [[AuditRecord]] = []
        var count = 0
        for file in files where count < limit {
            guard let records = Self.tailRecords(of: file, limit: limit - count) else { continue }
            collected.append(records)
            count += records.count
        }
        return Array(collected.reversed().joined().suffix(limit))
    }

    /// Runs whose intent has no completion in any file of the log, oldest first.
    public func unfinishedRuns() -> [AuditRecord] {
        var intents: [String: AuditRecord] = [:]
        var order: [String] = []
        var finished = Set<String>()
        let decoder = JSONDecoder()
        let startedMarker = Array(#""outcome":"started""#.utf8)
        let idMarker = Array(#""audit_id":""#.utf8)
        for file in files.reversed() {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                let bytes = Array(line)
                if Self.find(startedMarker, in: bytes) != nil {
                    guard let record = try? decoder.decode(AuditRecord.self, from: Data(bytes)) else { continue }
                    if intents.updateValue(record, forKey: record.auditID) == nil { order.append(record.auditID) }
                } else if let start = Self.find(idMarker, in: bytes) {
                    let idStart = start + idMarker.count
                    guard let idEnd = bytes[idStart...].firstIndex(of: UInt8(ascii: "\"")) else { continue }
                    finished.insert(String(decoding: bytes[idStart..<idEnd], as: UTF8.self))
                }
            }
        }
        return order.filter { !finished.contains($0) }.compactMap { intents[$0] }
    }

    private static func tailRecords(of file: String, limit: Int) -> [AuditRecord]? {
        // Records are well under 4 KiB; read enough of the tail for `limit` of them.
        let window = min(64 * 1024 * 1024, max(64 * 1024, limit * 4096))
        guard let (data, cut) = readTail(of: file, bytes: window) else { return nil }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if cut, !lines.isEmpty { lines.removeFirst() }
        let decoder = JSONDecoder()
        var records: [AuditRecord] = []
        for line in lines.reversed() where records.count < limit {
            if let record = try? decoder.decode(AuditRecord.self, from: Data(line)) { records.append(record) }
        }
        return records.reversed()
    }

    /// The last `bytes` bytes of `file` (all of it if smaller), and whether its start was cut off;
    /// nil if it cannot be opened.
    private static func readTail(of file: String, bytes window: Int) -> ([UInt8], Bool)? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let size = Int(info.st_size)
        let start = max(0, size - window)
        var bytes = [UInt8](repeating: 0, count: size - start)
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done))
            }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            done += count
        }
        return (Array(bytes[0..<done]), start > 0)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return index }
        }
        return nil
    }
}
