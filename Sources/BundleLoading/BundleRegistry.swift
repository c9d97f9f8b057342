public import ActionKit
public import Logging
import Synchronization

/// Where the registry finds bundles, trusted keys and its state.
public struct BundleDirectories: Sendable, Hashable {
    /// One sub-directory per bundle.
    public var bundles: String
    /// `<key_id>.pub.json` files.
    public var trustedKeys: String
    /// Where `accepted-serials.json` lives (created 0700 if missing).
    public var state: String

    public init(bundles: String, trustedKeys: String, state: String) {
        self.bundles = bundles
        self.trustedKeys = trustedKeys
        self.state = state
    }
}

/// One allowlisted action from a loaded bundle.
public struct LoadedAction: Sendable {
    public var spec: ActionSpec
    public var bundle: AgentAPI.BundleRef
    /// The sealed image the action's reader comes from (its memfd maps it into a reader helper).
    public let image: PluginImage

    /// The plugin's reading of a finished command (exit code or signal, and its output).
    public func interpret(exitCode: Int32?, signal: Int32?, stdout: [UInt8], stderr: [UInt8]) -> JSONValue? {
        image.interpret(actionID: spec.id, exitCode: exitCode, signal: signal, stdout: stdout, stderr: stderr)
    }

    public var catalogEntry: AgentAPI.CatalogAction { AgentAPI.CatalogAction(spec: spec, bundle: bundle) }
}

/// The result of one scan of the bundles directory.
public struct BundleLoadReport: Sendable {
    /// Bundles serving actions after this scan.
    public var loaded: [AgentAPI.BundleRef]
    /// Bundles found but skipped, with the step that failed.
    public var refused: [AgentAPI.RefusedBundle]
    /// Trusted-key files that were skipped.
    public var keyProblems: [String]
}

/// The bundles the agent serves: scanned at start-up and on SIGHUP, never unloaded.
///
/// A reload verifies every bundle directory again; a bundle whose bytes were already loaded is not
/// dlopened again. A directory that is removed (or no longer verifies) leaves the catalog; its
/// library stays mapped. Thread-safe.
public final class BundleRegistry: Sendable {
    private struct State {
        var actions: [LoadedAction] = []
        var refused: [AgentAPI.RefusedBundle] = []
        /// Every image ever loaded, by SHA-256 of its bytes.
        var images: [String: PluginImage] = [:]
        /// Libraries that failed dlopen or the handshake, by SHA-256: not dlopened again on reload
        /// (each attempt would map another copy that can never be unloaded).
        var failedImages: [String: BundleRefusal] = [:]
    }

    public let directories: BundleDirectories
    private let serialPolicy: SerialPolicy
    private let logger: Logger
    private let state = Mutex(State())
    /// Serializes reloads; readers only take `state`.
    private let reloading = Mutex(())

    public init(directories: BundleDirectories, logger: Logger) {
        self.directories = directories
        self.serialPolicy = .enforceAndRecord(stateDirectory: directories.state)
        self.logger = logger
    }

    /// For tools: choose how serials are treated (e.g. `verify` must not record anything).
    public init(directories: BundleDirectories, serialPolicy: SerialPolicy, logger: Logger) {
        self.directories = directories
        self.serialPolicy = serialPolicy
        self.logger = logger
    }

    /// Every loaded action, bundle by bundle (directory name order), in manifest order.
    public func catalog() -> AgentAPI.Catalog {
        state.withLock { state in
            AgentAPI.Catalog(actions: state.actions.map(\.catalogEntry), refusedBundles: state.refused)
        }
    }

    public func action(id: String) -> LoadedAction? {
        state.withLock { state in state.actions.first { $0.spec.id == id } }
    }

    public var actions: [LoadedAction] { state.withLock { $0.actions } }

    /// The plugin images serving the current catalog, one per distinct library.
    public func loadedImages() -> [PluginImage] {
        state.withLock { state in
            var seen = Set<String>()
            return state.actions.compactMap { seen.insert($0.image.sha256).inserted ? $0.image : nil }
        }
    }

    /// The image for verified bytes: already loaded, already refused, or loaded now.
    private func image(for verified: BundleLoader.Verified) throws(BundleRefusal) -> PluginImage {
        let sha = verified.artifact.sha256
        let cached: (PluginImage?, BundleRefusal?) = state.withLock { ($0.images[sha], $0.failedImages[sha]) }
        if let image = cached.0 { return image }
        if let failure = cached.1 {
            throw BundleRefusal(
                verified.directory,
                BundleRefusal.Step(rawValue: failure.refused.step) ?? .dlopen,
                failure.refused.reason
            )
        }
        do throws(BundleRefusal) {
            let image = try BundleLoader.loadImage(verified)
            state.withLock { $0.images[sha] = image }
            return image
        } catch {
            state.withLock { $0.failedImages[sha] = error }
            throw error
        }
    }

    /// Scans the bundles directory and replaces the catalog with the bundles that verify now.
    @discardableResult
    public func reload() -> BundleLoadReport {
        reloading.withLock { _ in reloadLocked() }
    }

    private func reloadLocked() -> BundleLoadReport {
        var refused: [AgentAPI.RefusedBundle] = []
        var keyProblems: [String] = []
        var newActions: [LoadedAction] = []
        var loadedRefs: [AgentAPI.BundleRef] = []
        defer {
            let actions = newActions
            let refusedNow = refused
            state.withLock { state in
                state.actions = actions
                state.refused = refusedNow
            }
            for entry in refusedNow {
                logger.error(
                    "bundle refused",
                    metadata: [
                        "bundle.directory": "\(entry.directory)", "bundle.step": "\(entry.step)",
                        "bundle.reason": "\(entry.reason)",
                    ]
                )
            }
            for problem in keyProblems {
                logger.warning("trusted key skipped", metadata: ["key.problem": "\(problem)"])
            }
            logger.info(
                "bundles scanned",
                metadata: ["bundles.loaded": "\(loadedRefs.count)", "bundles.refused": "\(refusedNow.count)"]
            )
        }
        // Both directories must be safe before anything in them is trusted.
        for (what, path) in [("bundles", directories.bundles), ("trusted-keys", directories.trustedKeys)] {
            do {
                try DirectorySafety.check(path: path)
            } catch {
                refused.append(.init(directory: path, step: "safe-path", reason: "\(what) directory: \(error)"))
                return BundleLoadReport(loaded: [], refused: refused, keyProblems: keyProblems)
            }
        }
        // Key files are read through the checked directory's descriptor, like bundle files.
        let keys: TrustedKeyStore
        do {
            let keysDirectory = try SafeDirectory.open(directories.trustedKeys)
            keys = TrustedKeyStore.load(directory: keysDirectory.path, names: try keysDirectory.entries()) {
                (path: String) throws(SigningError) -> [UInt8] in
                do throws(SafeDirectory.ReadFailure) {
                    return try keysDirectory.readFile(
                        String(path.split(separator: "/").last ?? ""),
                        limit: TrustedKeyStore.maxKeyFileBytes
                    )
                } catch {
                    switch error {
                    case .unsafe(let unsafe): throw SigningError(unsafe.description)
                    case .io(let io): throw SigningError(io.description)
                    }
                }
            }
        } catch {
            refused.append(
                .init(directory: directories.trustedKeys, step: "read", reason: "trusted-keys directory: \(error)")
            )
            return BundleLoadReport(loaded: [], refused: refused, keyProblems: keyProblems)
        }
        keyProblems = keys.problems
        var serials: AcceptedSerials?
        switch serialPolicy {
        case .enforceAndRecord(let directory), .enforce(let directory):
            // Whoever can write the accepted serials can allow a rollback: same rules as the bundles.
            if FileIO.exists(directory) {
                do {
                    try DirectorySafety.check(path: directory)
                } catch {
                    refused.append(.init(directory: directory, step: "serial", reason: "state directory: \(error)"))
                    return BundleLoadReport(loaded: [], refused: refused, keyProblems: keyProblems)
                }
            }
            do {
                serials = try AcceptedSerials.load(directory: directory)
            } catch {
                // Without the accepted serials no rollback can be detected: load nothing.
                refused.append(.init(directory: directory, step: "serial", reason: error.description))
                return BundleLoadReport(loaded: [], refused: refused, keyProblems: keyProblems)
            }
        case .ignore:
            serials = nil
        }
        // Every bundle is opened below this descriptor, never again by path.
        let bundlesDirectory: SafeDirectory
        let names: [String]
        do {
            bundlesDirectory = try SafeDirectory.open(directories.bundles)
            names = try bundlesDirectory.entries()
        } catch {
            refused.append(
                .init(directory: directories.bundles, step: "safe-path", reason: "bundles directory: \(error)")
            )
            return BundleLoadReport(loaded: [], refused: refused, keyProblems: keyProblems)
        }
        let loader = BundleLoader(keys: keys)
        var verified: [BundleLoader.Verified] = []
        var refusals: [BundleRefusal] = []
        for name in names where !name.hasPrefix(".") {
            do throws(BundleRefusal) {
                let directory: SafeDirectory
                do {
                    directory = try bundlesDirectory.openDirectory(name)
                } catch {
                    throw BundleRefusal(name, .safePath, error.description)
                }
                verified.append(try loader.verify(directory: directory, name: name) { serials?.serials[$0] })
            } catch {
                refusals.append(error)
            }
        }
        let selection = BundleSelection.select(verified)
        refusals += selection.refused
        for candidate in selection.selected {
            do throws(BundleRefusal) {
                let bundle = try BundleLoader.bind(candidate, to: image(for: candidate))
                if case .enforceAndRecord = serialPolicy {
                    do {
                        try serials?.record(bundleID: bundle.ref.id, serial: bundle.ref.serial)
                    } catch {
                        throw BundleRefusal(candidate.directory, .serial, "cannot record the accepted serial: \(error)")
                    }
                }
                for action in bundle.manifest.actions {
                    newActions.append(LoadedAction(spec: action, bundle: bundle.ref, image: bundle.image))
                }
                loadedRefs.append(bundle.ref)
            } catch {
                refusals.append(error)
            }
        }
        refused += refusals.sorted { $0.refused.directory < $1.refused.directory }.map(\.refused)
        return BundleLoadReport(loaded: loadedRefs, refused: refused, keyProblems: keyProblems)
    }
}
