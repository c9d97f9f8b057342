import AgentHost
import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The audit log's own guarantees: whole records, torn tails skipped, refusals aggregated,
/// rotation without losing a record, request text cleaned.
@Suite struct AuditLogTests {
    func record(_ id: String, outcome: String = "succeeded", client: String = "127.0.0.1") -> AuditRecord {
        AuditRecord(
            auditID: id,
            time: "2026-01-01T00:00:00.000Z",
            requestID: "r-\(id)",
            clientIP: client,
            method: "POST",
            action: "restart_api_core",
            outcome: outcome,
            status: outcome == "started" ? 0 : 200
        )
    }

    func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    @Test func aTornTailNeverSpoilsTheNextRecord() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("audit.jsonl")
        try AuditLog(path: path).appendRun(record("a_1"))
        // A crash in the middle of a write left half a record.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"action":"restart_api_core","audit_id":"a_"#.utf8))
        try handle.close()

        let log = try AuditLog(path: path)
        try log.appendRun(record("a_2"))
        #expect(log.recent(limit: 10).map(\.auditID) == ["a_1", "a_2"])
        #expect(lines(path).count == 3, "the torn fragment stays on a line of its own")
    }

    @Test func refusalsAreCountedNotWrittenOneByOne() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("audit.jsonl")
        let log = try AuditLog(path: path)
        for index in 0..<5000 {
            try log.append(record("r\(index)", outcome: index % 5 == 0 ? "rate_limited" : "unauthorized"))
        }
        try log.append(record("other", outcome: "not_found", client: "192.0.2.9"))
        #expect(lines(path).isEmpty, "nothing is written per refusal")
        log.flushRefusals()
        let records = log.recent(limit: 10)
        #expect(records.count == 2)
        #expect(records[0].outcome == "refused")
        #expect(records[0].clientIP == "127.0.0.1")
        #expect(records[0].refusals == ["unauthorized": 4000, "rate_limited": 1000])
        #expect(records[1].refusals == ["not_found": 1])
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
        print("refusals: 5001 refusals wrote \(bytes) bytes")
        #expect(bytes < 2048)
    }

    @Test func rotationKeepsEveryRunRecordAndReadsAcrossFiles() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("audit.jsonl")
        let log = try AuditLog(path: path, rotation: AuditRotation(maxBytes: 4096, retain: 50))
        for index in 0..<200 {
            try log.appendRun(record("a_\(index)", outcome: "started"))
            try log.appendRun(record("a_\(index)"))
        }
        let files = log.files.filter { FileManager.default.fileExists(atPath: $0) }
        #expect(files.count > 5, "the log rotated")
        var all: [String] = []
        for file in files.reversed() {
            for line in lines(file) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                all.append(object["audit_id"] as? String ?? "?")
            }
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            #expect(size <= 4096 + 512, "\(file): \(size) bytes")
        }
        #expect(all == (0..<200).flatMap { ["a_\($0)", "a_\($0)"] }, "no record lost or torn")
        #expect(log.recent(limit: 400).count == 400)
        #expect(log.recent(limit: 3).map(\.outcome) == ["succeeded", "started", "succeeded"])
        #expect(log.unfinishedRuns().isEmpty)

        let small = try AuditLog(path: dir.file("small.jsonl"), rotation: AuditRotation(maxBytes: 4096, retain: 2))
        for index in 0..<200 { try small.appendRun(record("b_\(index)")) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("small.jsonl.3")), "retention holds")
        #expect(FileManager.default.fileExists(atPath: dir.file("small.jsonl.2")))
    }

    @Test func unfinishedRunsAreTheIntentsWithoutACompletion() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.jsonl"))
        try log.appendRun(record("a_done", outcome: "started"))
        try log.appendRun(record("a_open", outcome: "started"))
        try log.appendRun(record("a_done"))
        #expect(log.unfinishedRuns().map(\.auditID) == ["a_open"])
    }

    @Test func controlAndBidiCharactersAreNotStored() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("audit.jsonl")
        let log = try AuditLog(path: path)
        var hostile = record("a_1")
        hostile.reason = "ok\u{202E}gnp.exe\u{2066}\u{200F}\u{1B}[31m\u{85}\u{7}done\nnext"
        hostile.incident = "inc\u{2069}\u{200E}-1"
        try log.appendRun(hostile)
        let stored = try #require(log.recent(limit: 1).first)
        #expect(stored.reason == "okgnp.exe[31mdonenext")
        #expect(stored.incident == "inc-1")
        let raw = try String(contentsOfFile: path, encoding: .utf8)
        for scalar in ["\u{202E}", "\u{2066}", "\u{200F}", "\u{200E}", "\u{2069}"] { #expect(!raw.contains(scalar)) }
        #expect(AuditText.clean("plain text é ü") == "plain text é ü")
    }
}
