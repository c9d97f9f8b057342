import ActionKit
import ActionPluginKit
import ArgumentParser
import BundleLoading
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `zumik-actions`: keys, signed bundles and the catalog, for operators and CI.
@main
struct ZumikActions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zumik-actions",
        abstract: "Create keys, pack, sign and verify action bundles; list the catalog; print the OpenAI tool schema.",
        version: "1.0.0",
        subcommands: [Keygen.self, Pack.self, Sign.self, Verify.self, List.self, Schema.self, MCP.self]
    )
}

/// A failure reported as one line and exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The private key a command signs with.
struct SigningKeyOption: ParsableArguments {
    @Option(help: "Private key file.")
    var key: String

    /// Loads the key and runs `body` with it; each failure becomes a one-line ``CommandFailure``.
    func signing(_ body: (SigningKey) throws(BundlePacker.PackError) -> Void) throws {
        let signingKey = try ZumikActions.Keygen.orFail { () throws(SigningError) in try SigningKey.load(path: key) }
        do {
            try body(signingKey)
        } catch {
            throw CommandFailure(error.message)
        }
    }
}

/// Directories, from flags or the environment.
struct DirectoryOptions: ParsableArguments {
    @Option(name: .customLong("bundles-dir"), help: "Bundles directory (default: $ZUMIK_BUNDLES_DIR).")
    var bundlesDir: String?

    @Option(name: .customLong("trusted-keys-dir"), help: "Trusted keys directory (default: $ZUMIK_TRUSTED_KEYS_DIR).")
    var trustedKeysDir: String?

    @Option(
        name: .customLong("state-dir"),
        help: "State directory with accepted serials; read only, never written (default: $ZUMIK_STATE_DIR)."
    )
    var stateDir: String?

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    func bundles() throws -> String {
        guard let value = bundlesDir ?? Self.environment("ZUMIK_BUNDLES_DIR") else {
            throw CommandFailure("no bundles directory: pass --bundles-dir or set ZUMIK_BUNDLES_DIR")
        }
        return value
    }

    func trustedKeys() throws -> String {
        guard let value = trustedKeysDir ?? Self.environment("ZUMIK_TRUSTED_KEYS_DIR") else {
            throw CommandFailure("no trusted-keys directory: pass --trusted-keys-dir or set ZUMIK_TRUSTED_KEYS_DIR")
        }
        return value
    }

    var state: String? { stateDir ?? Self.environment("ZUMIK_STATE_DIR") }

    /// Verifies every bundle (no serial is recorded) and returns the registry.
    func registry() throws -> BundleRegistry {
        var logger = Logger(label: "zumik-actions")
        logger.logLevel = .critical  // refusals are printed by the command itself
        let state = self.state
        let registry = BundleRegistry(
            directories: BundleDirectories(bundles: try bundles(), trustedKeys: try trustedKeys(), state: state ?? ""),
            serialPolicy: state.map { .enforce(stateDirectory: $0) } ?? .ignore,
            logger: logger
        )
        let report = registry.reload()
        for refused in report.refused {
            printError("refused: \(refused.directory): \(refused.step): \(refused.reason)")
        }
        for problem in report.keyProblems {
            printError("trusted key skipped: \(problem)")
        }
        return registry
    }
}

func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

extension ZumikActions {
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an Ed25519 signing key: <out>/<key-id>.key.json (0600) and <out>/<key-id>.pub.json."
        )

        @Option(name: .customLong("key-id"), help: "Key id, e.g. ops-2026.")
        var keyID: String

        @Option(help: "Directory to write both files to (created if missing).")
        var out: String

        @Option(name: .customLong("scope"), help: "Bundle id pattern the key may sign (repeatable), e.g. ai.zumik.*")
        var scopes: [String] = []

        @Option(
            name: .customLong("action"),
            help:
                "Action id or pattern the key's bundles may declare and that no other key may (repeatable), e.g. docker_*"
        )
        var actions: [String] = []

        func run() throws {
            let key = try Self.orFail { () throws(SigningError) in try SigningKey.generate(keyID: keyID) }
            let trusted = key.trustedKey(
                scopes: scopes.isEmpty ? nil : scopes,
                actions: actions.isEmpty ? nil : actions
            )
            // Check the scopes the same way the loader will read them.
            _ = try Self.orFail { () throws(SigningError) in
                try TrustedKey.parse(trusted.fileBytes, path: "--scope/--action")
            }
            let privatePath = "\(out)/\(keyID).key.json"
            let publicPath = "\(out)/\(keyID)\(TrustedKey.fileSuffix)"
            do {
                try FileIO.makeDirectory(out, mode: 0o700)
            } catch {
                throw CommandFailure("\(error)")
            }
            guard !FileIO.exists(publicPath) else { throw CommandFailure("\(publicPath): already exists") }
            try Self.orFail { () throws(SigningError) in try key.write(to: privatePath) }
            do {
                try FileIO.createExclusive(publicPath, bytes: trusted.fileBytes, mode: 0o644)
            } catch {
                throw CommandFailure("\(error)")
            }
            print("private key: \(privatePath) (keep it secret; mode 0600)")
            print("public key:  \(publicPath) (copy it into the trusted-keys directory)")
        }

        static func orFail<T>(_ body: () throws(SigningError) -> T) throws -> T {
            do {
                return try body()
            } catch {
                throw CommandFailure(error.message)
            }
        }
    }

    struct Pack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a signed bundle directory from a manifest template and a built plugin library."
        )

        @Option(help: "Manifest template (artifacts are filled in).")
        var manifest: String

        @Option(help: "The built plugin library, e.g. .build/release/libDockerActions.so.")
        var library: String

        @OptionGroup var signingKey: SigningKeyOption

        @Option(help: "Bundle directory to create.")
        var out: String

        @Option(help: "Override bundle.serial (must not be lower than any serial already deployed).")
        var serial: Int?

        func run() throws {
            let template: [UInt8]
            do {
                template = try FileIO.read(manifest, limit: ManifestParser.maxBytes)
            } catch {
                throw CommandFailure("\(error)")
            }
            try signingKey.signing { (key) throws(BundlePacker.PackError) in
                let packed = try BundlePacker.pack(
                    template: template,
                    templatePath: manifest,
                    libraryPath: library,
                    key: key,
                    directory: out,
                    serial: serial
                )
                let bundle = packed.manifest.bundle
                print(
                    "packed \(bundle.id) \(bundle.version) serial \(bundle.serial) into \(packed.directory), signed by \(key.keyID)"
                )
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a bundle's manifest.json as it is (after checking it and its library digest)."
        )

        @Option(help: "Bundle directory.")
        var bundle: String

        @OptionGroup var signingKey: SigningKeyOption

        func run() throws {
            try signingKey.signing { (key) throws(BundlePacker.PackError) in
                let packed = try BundlePacker.sign(directory: bundle, key: key)
                print("signed \(packed.manifest.bundle.id) in \(bundle) with \(key.keyID)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every load check on one bundle, including dlopen and the ABI handshake."
        )

        @Option(help: "Bundle directory.")
        var bundle: String

        @OptionGroup var directories: DirectoryOptions

        func run() throws {
            let trustedKeys = try directories.trustedKeys()
            do {
                try DirectorySafety.check(path: trustedKeys)
            } catch {
                throw CommandFailure("trusted-keys directory is unsafe: \(error)")
            }
            let keys: TrustedKeyStore
            do {
                keys = try TrustedKeyStore.load(directory: trustedKeys)
            } catch {
                throw CommandFailure(error.message)
            }
            for problem in keys.problems { printError("trusted key skipped: \(problem)") }
            var accepted: [String: Int] = [:]
            if let state = directories.state {
                let path = "\(state)/accepted-serials.json"
                if FileIO.exists(path) {
                    guard let bytes = try? FileIO.read(path, limit: 1 << 20),
                        let serials = try? JSONDecoder().decode([String: Int].self, from: Data(bytes))
                    else { throw CommandFailure("\(path): not a JSON object of bundle id to serial") }
                    accepted = serials
                }
            }
            let loader = BundleLoader(keys: keys)
            do {
                let verified = try loader.verify(path: bundle) { accepted[$0] }
                let loaded = try BundleLoader.load(verified)
                let ref = loaded.ref
                print(
                    "ok: \(ref.id) \(ref.version) serial \(ref.serial), signed by \(ref.keyID), \(loaded.manifest.actions.count) actions, sha256 \(ref.sha256)"
                )
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every action of every bundle that verifies (refused bundles go to stderr)."
        )

        @OptionGroup var directories: DirectoryOptions

        @Flag(help: "Print the catalog as JSON.")
        var json = false

        func run() throws {
            let catalog = try directories.registry().catalog()
            if json {
                print(try jsonText(catalog))
                return
            }
            let header = ["ID", "KIND", "BUNDLE", "RANK", "TIMEOUT", "TARGETS", "ARGV"]
            let rows = catalog.actions.map { action in
                [
                    action.id, action.kind.rawValue, "\(action.bundle.id)@\(action.bundle.serial)", "\(action.rank)",
                    "\(action.timeoutS)s", action.targets.joined(separator: ","),
                    ((action.preflightArgv.map { $0.joined(separator: " ") + " && " }) ?? "")
                        + action.argv.joined(separator: " "),
                ]
            }
            var widths = header.map(\.count)
            for row in rows {
                for (index, cell) in row.enumerated() where index < row.count - 1 {
                    widths[index] = max(widths[index], cell.count)
                }
            }
            for row in [header] + rows {
                let cells = row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.paddedTo(widths[index] + 2)
                }
                print(cells.joined())
            }
            if rows.isEmpty { printError("no actions: no bundle verified") }
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the combined catalog as an OpenAI tools array (strict function tools)."
        )

        @OptionGroup var directories: DirectoryOptions

        func run() throws {
            let catalog = try directories.registry().catalog()
            print(try jsonText(OpenAITools.render(catalog.actions)))
        }
    }
}

extension String {
    fileprivate func paddedTo(_ length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
