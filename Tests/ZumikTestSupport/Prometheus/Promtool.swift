import Foundation

/// Prometheus's `promtool` (Debian's `prometheus` package, installed by `scripts/setup.sh`).
public enum Promtool {
    public static let path = "/usr/bin/promtool"
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

    public struct Output: Sendable {
        public var status: Int32
        /// stdout and stderr together.
        public var text: String
    }

    /// `promtool check metrics` on an exposition text (stdin): status 0 and no output when it finds nothing
    /// to complain about.
    public static func checkMetrics(_ exposition: String) throws -> Output {
        try run(["check", "metrics"], stdin: Data(exposition.utf8))
    }

    /// `promtool ARGS` in `directory`.
    public static func run(_ arguments: [String], stdin: Data? = nil, directory: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: text)
    }

    /// The metric family names an exposition text declares (`# TYPE name kind`).
    public static func families(_ exposition: String) -> Set<String> {
        Set(
            exposition.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard words.count >= 3, words[0] == "#", words[1] == "TYPE" else { return nil }
                return String(words[2])
            }
        )
    }
}
