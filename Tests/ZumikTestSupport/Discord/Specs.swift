import Foundation

/// Locates the vendored request/response schemas and runs their validator (`python3 validate.py`).
///
/// Order: `$ZUMIK_SPECS_DIR`, then `<package root>/specs/` (the vendored copy).
public enum Specs {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static var directory: URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["ZUMIK_SPECS_DIR"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(packageRoot.appendingPathComponent("specs"))
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("validate.py").path)
        }
    }

    /// The first `python3` on `PATH` (then /usr/bin, /usr/local/bin) that can import `jsonschema`.
    public static let python3: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for dir in dirs {
            let candidate = dir + "/python3"
            guard FileManager.default.isExecutableFile(atPath: candidate) else { continue }
            if (try? run(candidate, ["-c", "import jsonschema"]).0) == 0 { return candidate }
        }
        return nil
    }()

    /// True when the specs and a python3 with `jsonschema` are present.
    public static var isAvailable: Bool { python3 != nil && directory != nil }

    /// Validates `body` against `schema` (a file name in the specs directory). Returns nil when valid, else the
    /// validator's messages.
    public static func validate(_ body: [UInt8], schema: String) -> String? {
        guard let python3, let directory else { return "specs or python3 not available" }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("zumik-body-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try Data(body).write(to: file)
            let (status, output) = try run(
                python3,
                [
                    directory.appendingPathComponent("validate.py").path, directory.appendingPathComponent(schema).path,
                    file.path,
                ]
            )
            return status == 0 ? nil : output
        } catch {
            return "validator did not run: \(error)"
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
