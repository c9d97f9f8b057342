public import Logging

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The one log handler of both executables: one line per record on stderr, as logfmt or JSON, with the
/// same keys in the same order everywhere:
///
/// `time` (RFC 3339, UTC, milliseconds) · `level` · `logger` (the logger's label) · `msg` · then the merged
/// metadata, sorted by key.
///
/// Values are plain text, never Swift debug descriptions. In JSON, metadata given as
/// `.stringConvertible` integers, floating-point numbers and booleans are JSON numbers and booleans, arrays
/// are JSON arrays and dictionaries JSON objects; everything else is a string. In logfmt, a value with a
/// space, a quote, `=`, a backslash or a control character is quoted and escaped.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case logfmt, json
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let output: @Sendable (String) -> Void
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - output: receives each line without its newline (default: written to stderr).
    ///   - now: the clock for `time` (tests pass a fixed one).
    public init(
        label: String,
        format: Format,
        level: Logger.Level = .info,
        output: @escaping @Sendable (String) -> Void = LineLogHandler.standardError,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
        self.now = now
    }

    /// Sets up `LoggingSystem` with this handler for every label.
    public static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, level: level) }
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        StandardError.write(line + "\n")
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var fields: [(String, Logger.MetadataValue)] = [
            ("time", .string(Self.timestamp(now()))),
            ("level", .string(event.level.rawValue)),
            ("logger", .string(label)),
            ("msg", .string(event.message.description)),
        ]
        for key in merged.keys.sorted() { fields.append((key, merged[key]!)) }
        output(Self.line(fields, format: format))
    }

    /// One rendered line (no trailing newline).
    static func line(_ fields: [(String, Logger.MetadataValue)], format: Format) -> String {
        switch format {
        case .logfmt:
            return fields.map { "\(LogValue.logfmtKey($0.0))=\(LogValue.logfmt(LogValue.text($0.1)))" }
                .joined(separator: " ")
        case .json:
            return "{" + fields.map { "\(LogValue.jsonString($0.0)):\(LogValue.json($0.1))" }.joined(separator: ",")
                + "}"
        }
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-29T21:50:01.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
