import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One line of the audit log: one request that named an action, allowed or refused.
/// Never holds the token.
public struct AuditRecord: Sendable, Hashable, Codable {
    public var auditID: String
    /// RFC 3339 UTC with milliseconds.
    public var time: String
    public var requestID: String
    public var clientIP: String
    public var method: String
    /// The action id as requested (bounded, may be hostile: it is data, never executed).
    public var action: String
    public var bundleID: String?
    public var bundleSHA256: String?
    public var reason: String?
    public var incident: String?
    /// `succeeded`, `failed`, `timed_out`, `killed`, `spawn_failed`, `preflight_failed`, or a
    /// refusal: `unauthorized`, `not_found`, `busy`, `limited`, `rate_limited`, `bad_request`,
    /// `too_large`, `method_not_allowed`, `audit_unavailable`.
    public var outcome: String
    public var status: Int
    public var exitCode: Int?
    public var signal: Int?
    public var timedOut: Bool?
    public var durationMs: Int?
    public var stdoutBytes: Int?
    public var stderrBytes: Int?
    public var message: String?
    /// Which API the request came through; nil only in records written before channels existed.
    public var channel: AuditChannel?
    /// MCP only: the client's declared `clientInfo.name` (control characters removed, bounded).
    public var clientName: String?

    public init(
        auditID: String,
        time: String,
        requestID: String,
        clientIP: String,
        method: String,
        action: String,
        bundleID: String? = nil,
        bundleSHA256: String? = nil,
        reason: String? = nil,
        incident: String? = nil,
        outcome: String,
        status: Int,
        exitCode: Int? = nil,
        signal: Int? = nil,
        timedOut: Bool? = nil,
        durationMs: Int? = nil,
        stdoutBytes: Int? = nil,
        stderrBytes: Int? = nil,
        message: String? = nil,
        channel: AuditChannel? = .rest,
        clientName: String? = nil
    ) {
        self.auditID = auditID
        self.time = time
        self.requestID = requestID
        self.clientIP = clientIP
        self.method = method
        self.action = action
        self.bundleID = bundleID
        self.bundleSHA256 = bundleSHA256
        self.reason = reason
        self.incident = incident
        self.outcome = outcome
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.durationMs = durationMs
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.message = message
        self.channel = channel
        self.clientName = clientName
    }

    enum CodingKeys: String, CodingKey {
        case auditID = "audit_id"
        case time
        case requestID = "request_id"
        case clientIP = "client_ip"
        case method, action
        case bundleID = "bundle_id"
        case bundleSHA256 = "bundle_sha256"
        case reason, incident, outcome, status
        case exitCode = "exit_code"
        case signal
        case timedOut = "timed_out"
        case durationMs = "duration_ms"
        case stdoutBytes = "stdout_bytes"
        case stderrBytes = "stderr_bytes"
        case message, channel
        case clientName = "client_name"
    }
}

/// The API a request that named an action came through.
public enum AuditChannel: String, Sendable, Hashable, Codable {
    case rest, mcp
}

/// An append-only JSONL file. Each record is written with one `write` on an `O_APPEND`
/// descriptor and fsynced before ``append(_:)`` returns, so the response follows the record.
public final class AuditLog: Sendable {
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let fd: Mutex<Int32>
    private let lastWriteFailed = Mutex(false)

    /// False after an append failed, until one succeeds: the agent runs nothing it cannot audit.
    public var isHealthy: Bool { !lastWriteFailed.withLock { $0 } }

    /// Opens (creating, mode 0600) the log at `path`.
    public init(path: String) throws(AuditLog.Error) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Error(description: "audit log \(path): cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.fd = Mutex(descriptor)
    }

    deinit {
        _ = fd.withLock { close($0) }
    }

    /// Appends and fsyncs one record; throws if it could not be made durable.
    public func append(_ record: AuditRecord) throws(AuditLog.Error) {
        do {
            try appendLine(record)
            lastWriteFailed.withLock { $0 = false }
        } catch {
            lastWriteFailed.withLock { $0 = true }
            throw error
        }
    }

    private func appendLine(_ record: AuditRecord) throws(AuditLog.Error) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(record) else {
            throw Error(description: "audit log \(path): cannot encode record")
        }
        line.append(UInt8(ascii: "\n"))
        let path = self.path
        try fd.withLock { (fd: inout Int32) throws(AuditLog.Error) in
            var offset = 0
            while offset < line.count {
                let written = line.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Error(description: "audit log \(path): write failed: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
            if fsync(fd) != 0 {
                throw Error(description: "audit log \(path): fsync failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The last `limit` records, oldest first. Lines that do not parse are skipped.
    public func recent(limit: Int) -> [AuditRecord] {
        guard limit > 0, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        // Records are well under 4 KiB; read enough of the tail for `limit` of them.
        let window = UInt64(min(64 * 1024 * 1024, max(64 * 1024, limit * 4096)))
        let start = size > window ? size - window : 0
        try? handle.seek(toOffset: start)
        guard let data = try? handle.readToEnd() else { return [] }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        if start > 0, !lines.isEmpty { lines.removeFirst() }
        let decoder = JSONDecoder()
        return lines.suffix(limit).compactMap { try? decoder.decode(AuditRecord.self, from: Data($0)) }
    }

    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
