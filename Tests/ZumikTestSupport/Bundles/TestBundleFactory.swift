public import ActionKit
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds signed bundle fixtures exactly as operators do (same packer, same key formats), in a
/// private temp root that passes the loader's safe-path rules.
///
/// ```swift
/// let factory = try TestBundleFactory()           // fresh /tmp/zumik-bundles-XXXXXX (0700)
/// defer { factory.remove() }
/// let key = try factory.makeKey(id: "test-key", scopes: ["ai.zumik.*"])
/// let manifest = try TestBundleFactory.productionManifest(named: "DockerActions")
///     .replacingOccurrences(of: "/srv/zumik/docker-compose.yml", with: composePath)
/// try factory.pack(manifest: manifest, library: TestBundleFactory.builtLibrary(named: "DockerActions"),
///                  key: key, into: "docker")
/// // factory.bundlesDirectory, factory.trustedKeysDirectory, factory.stateDirectory → BundleDirectories
/// ```
public struct TestBundleFactory: Sendable {
    /// The temp root; everything the factory writes is under it.
    public let root: String

    public var bundlesDirectory: String { "\(root)/bundles" }
    public var trustedKeysDirectory: String { "\(root)/trusted-keys" }
    public var stateDirectory: String { "\(root)/state" }
    /// Private keys (never inside the trusted-keys directory).
    public var privateKeysDirectory: String { "\(root)/private-keys" }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Creates a fresh temp root under `/tmp` (mode 0700) with empty bundles, trusted-keys and
    /// state directories (0755).
    public init() throws {
        var template = Array("/tmp/zumik-bundles-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        try self.init(root: String(cString: made))
    }

    /// Uses `root` (created if missing) and creates the sub-directories.
    public init(root: String) throws {
        self.root = root
        do {
            try FileIO.makeDirectory(root, mode: 0o700)
            for directory in [bundlesDirectory, trustedKeysDirectory, stateDirectory, privateKeysDirectory] {
                try FileIO.makeDirectory(directory, mode: 0o755)
            }
        } catch {
            throw Failure("\(error)")
        }
    }

    /// Deletes the temp root and everything in it.
    public func remove() {
        Self.removeTree(root)
    }

    /// A new Ed25519 key. Its private key file goes to ``privateKeysDirectory``/`<id>.json`; when
    /// `trusted`, its `<id>.pub.json` goes to ``trustedKeysDirectory`` with `scopes`.
    @discardableResult
    public func makeKey(
        id: String = "test-key",
        scopes: [String]? = nil,
        actions: [String]? = nil,
        trusted: Bool = true
    ) throws -> SigningKey {
        let key = try SigningKey.generate(keyID: id)
        try key.write(to: privateKeyPath(id: id))
        if trusted { try trust(key, scopes: scopes, actions: actions) }
        return key
    }

    /// Where ``makeKey(id:scopes:actions:trusted:)`` wrote the private key.
    public func privateKeyPath(id: String) -> String { "\(privateKeysDirectory)/\(id).json" }

    /// Writes (or replaces) `<id>.pub.json` for `key` in the trusted-keys directory.
    public func trust(_ key: SigningKey, scopes: [String]? = nil, actions: [String]? = nil) throws {
        try FileIO.replaceAtomically(
            "\(trustedKeysDirectory)/\(key.keyID)\(TrustedKey.fileSuffix)",
            bytes: key.trustedKey(scopes: scopes, actions: actions).fileBytes,
            mode: 0o644
        )
    }

    /// Packs `manifest` (a template: artifacts are filled in) with `library` into
    /// ``bundlesDirectory``/`name`, signed by `key`. Returns the bundle directory.
    @discardableResult
    public func pack(
        manifest: String,
        library: String,
        key: SigningKey,
        into name: String,
        serial: Int? = nil
    ) throws -> String {
        let directory = "\(bundlesDirectory)/\(name)"
        _ = try BundlePacker.pack(
            template: Array(manifest.utf8),
            templatePath: "\(name)/manifest.json",
            libraryPath: library,
            key: key,
            directory: directory,
            serial: serial
        )
        return directory
    }

    /// The text of `Plugins/<name>/manifest.json` (or `TestPlugins/<name>/manifest.json`) in this package.
    public static func productionManifest(named name: String) throws -> String {
        for folder in ["Plugins", "TestPlugins"] {
            let path = "\(packageRoot)/\(folder)/\(name)/manifest.json"
            if FileIO.exists(path) {
                return String(decoding: try FileIO.read(path, limit: 1 << 20), as: UTF8.self)
            }
        }
        throw Failure("no manifest.json for \(name) under \(packageRoot)/Plugins or TestPlugins")
    }

    /// The package root, found from this file's path.
    public static var packageRoot: String {
        var path = #filePath
        for _ in 0..<4 {  // Tests/ZumikTestSupport/Bundles/TestBundleFactory.swift
            path = FileIO.parentDirectory(of: path)
        }
        return path
    }

    /// `lib<name>.so` as built by `swift build`/`swift test`: beside the running test binary, else
    /// in the package's `.build/debug`.
    public static func builtLibrary(named name: String) throws -> String {
        var candidates: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 {
            let executable = String(
                decoding: buffer[0..<length].map { UInt8(bitPattern: $0) },
                as: UTF8.self
            )
            var directory = FileIO.parentDirectory(of: executable)
            // On Linux the test binary is `.build/debug/<pkg>PackageTests.xctest`; on macOS a bundle.
            if directory.hasSuffix(".xctest/Contents/MacOS") {
                for _ in 0..<3 { directory = FileIO.parentDirectory(of: directory) }
            }
            candidates.append("\(directory)/lib\(name).so")
        }
        candidates.append("\(packageRoot)/.build/debug/lib\(name).so")
        for candidate in candidates where FileIO.exists(candidate) {
            return candidate
        }
        throw Failure(
            "lib\(name).so not found (looked in \(candidates.joined(separator: ", "))); run swift build first"
        )
    }

    /// Recursively deletes `path` without following symlinks.
    public static func removeTree(_ path: String) {
        // attributesOfItem does not follow a final symlink (it uses lstat).
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }
        if attributes[.type] as? FileAttributeType == .typeDirectory {
            _ = chmod(path, 0o700)
            for name in (try? FileIO.list(path)) ?? [] {
                removeTree("\(path)/\(name)")
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
