import ActionKit
import AgentHost
import BundleLoading
import Foundation
import Logging
import Testing
import ZumikTestSupport

/// A temp root with a trusted key and helpers to pack the real, built bundles into it.
struct BundleFixture {
    let factory: TestBundleFactory
    let key: SigningKey

    var directories: BundleDirectories {
        BundleDirectories(
            bundles: factory.bundlesDirectory,
            trustedKeys: factory.trustedKeysDirectory,
            state: factory.stateDirectory
        )
    }

    init(scopes: [String]? = ["ai.zumik.*"]) throws {
        factory = try TestBundleFactory()
        key = try factory.makeKey(id: "test-ops", scopes: scopes)
    }

    func remove() { factory.remove() }

    @discardableResult
    func pack(
        _ plugin: String,
        into name: String? = nil,
        key: SigningKey? = nil,
        serial: Int? = nil,
        manifest: String? = nil
    ) throws -> String {
        try factory.pack(
            manifest: manifest ?? TestBundleFactory.productionManifest(named: plugin),
            library: TestBundleFactory.builtLibrary(named: plugin),
            key: key ?? self.key,
            into: name ?? plugin,
            serial: serial
        )
    }

    func registry(logger: Logger = Logger(label: "test.bundles", factory: { _ in SwiftLogNoOpLogHandler() }))
        -> BundleRegistry
    {
        BundleRegistry(directories: directories, logger: logger)
    }

    /// Loads and expects exactly one refused bundle, in `directory`, at `step`; returns its reason.
    func refusal(of directory: String, in report: BundleLoadReport) -> AgentAPI.RefusedBundle? {
        report.refused.first { $0.directory == directory }
    }

    /// The manifest for the WrongABIPlugin test library.
    static let wrongABIManifest = """
        {
          "manifest_version": 1,
          "bundle": {"id": "ai.zumik.test.wrongabi", "version": "0.0.1", "serial": 1,
                     "abi": {"major": 1, "minor": 0}, "artifacts": {}},
          "actions": [{
            "id": "wrong_abi_probe", "title": "Probe", "description": "Never loads.",
            "kind": "diagnostic", "argv": ["/bin/true"], "timeout_s": 5, "kill_grace_s": 1,
            "lock": "test", "limits": {"cooldown_s": 1}, "targets": ["none"], "rank": 0, "max_output_bytes": 64
          }]
        }
        """
}

/// Rewrites a file in place (same inode), as an attacker with write access would.
func overwriteInPlace(_ path: String, with bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_TRUNC)
    try #require(fd >= 0, "open \(path) for writing")
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    try #require(written == bytes.count)
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func jsonObject(_ value: JSONValue?) throws -> [String: JSONValue] {
    guard case .object(let object) = try #require(value) else {
        Issue.record("expected a JSON object, got \(String(describing: value))")
        return [:]
    }
    return object
}

/// Keeps every log record in memory, for tests that check what was logged.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    // Sendable: `records` is only touched under `lock`; the other fields are set before use.
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var stored: [Record] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var records: [Record] { lock.withLock { stored } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let record = Record(
            level: event.level,
            message: event.message.description,
            metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }
        )
        lock.withLock { stored.append(record) }
    }
}
