import Foundation

/// The official JSON schemas vendored in `specs/` and their `validate.py`.
///
/// Found through `ZUMIK_SPECS_DIR`, else `<package root>/specs`.
public enum OpenAISpecs {
    public static let requestSchema = "openai_chat_request.strict.schema.json"
    public static let responseSchema = "openai_chat_response.schema.json"

    public static var packageRoot: URL {
        // .../Tests/ZumikTestSupport/OpenAI/SpecValidation.swift → package root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var directory: URL {
        Specs.directory ?? packageRoot.appendingPathComponent("specs")
    }

    /// `nil` when the instance is valid, else validate.py's lines (or why it could not run).
    public static func validate(_ instance: [UInt8], against schema: String) async -> String? {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("zumik-spec-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try Data(instance).write(to: file)
        } catch {
            return "could not write \(file.path): \(error)"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", directory.appendingPathComponent("validate.py").path,
            directory.appendingPathComponent(schema).path, file.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let status: Int32 = await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return status == 0 ? nil : "validate.py \(schema) exited \(status): \(text)"
    }
}
