public import ActionKit
import ActionPluginKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bundle that passed every load step.
public struct LoadedBundle: Sendable {
    /// The bundle directory's name inside the bundles directory.
    public var directory: String
    public var manifest: Manifest
    public var ref: AgentAPI.BundleRef
    public var image: PluginImage
}

/// A bundle that failed a load step.
public struct BundleRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var refused: AgentAPI.RefusedBundle
    public var description: String { "bundle \(refused.directory): \(refused.step): \(refused.reason)" }

    init(_ directory: String, _ step: Step, _ reason: String) {
        refused = AgentAPI.RefusedBundle(directory: directory, step: step.rawValue, reason: reason)
    }

    /// The load steps, in order.
    public enum Step: String, Sendable, CaseIterable {
        case safePath = "safe-path"
        case read
        case signature
        case manifest
        case keyScope = "key-scope"
        case serial
        case artifact
        case digest
        case dlopen
        case handshake
        case bundleID = "bundle-id"
        case superseded
        case duplicateAction = "duplicate-action"
    }
}

/// How the loader treats bundle serials (rollback protection).
public enum SerialPolicy: Sendable {
    /// Refuse serials lower than the accepted ones, and record newly accepted serials. The agent.
    case enforceAndRecord(stateDirectory: String)
    /// Refuse lower serials but record nothing (`zumik-actions verify`).
    case enforce(stateDirectory: String)
    /// No state directory: serials are not checked.
    case ignore
}

/// Runs the load steps for one bundle directory.
///
/// Order: safe paths → open once and read → signature → manifest → key scope → serial → artifact
/// → digest → dlopen of a sealed memfd → handshake → bundle id. Serials and action ids across
/// bundles are settled by ``BundleSelection`` before anything is dlopened.
public struct BundleLoader: Sendable {
    public static let manifestFileName = "manifest.json"
    /// Largest plugin library accepted.
    public static let maxLibraryBytes = 64 << 20

    public var keys: TrustedKeyStore
    public var owners: Set<UInt32>

    public init(keys: TrustedKeyStore, owners: Set<UInt32> = DirectorySafety.defaultOwners) {
        self.keys = keys
        self.owners = owners
    }

    /// The verified contents of a bundle directory, before anything is dlopened.
    public struct Verified: Sendable {
        public var directory: String
        public var manifest: Manifest
        public var signature: BundleSignature
        public var artifact: Artifact
        public var libraryBytes: [UInt8]
    }

    /// Steps up to and including the digest check; nothing is loaded.
    /// - Parameters:
    ///   - path: the bundle directory.
    ///   - acceptedSerial: the highest serial already accepted for a bundle id, if any.
    public func verify(
        path: String,
        acceptedSerial: (String) -> Int?
    ) throws(BundleRefusal) -> Verified {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let directory: SafeDirectory
        do {
            directory = try SafeDirectory.open(path, owners: owners)
        } catch {
            throw BundleRefusal(name, .safePath, error.description)
        }
        return try verify(directory: directory, name: name, acceptedSerial: acceptedSerial)
    }

    /// Steps up to and including the digest check, on an already opened and checked directory
    /// (``SafeDirectory``): every file is opened relative to it and checked on its descriptor.
    public func verify(
        directory: SafeDirectory,
        name: String,
        acceptedSerial: (String) -> Int?
    ) throws(BundleRefusal) -> Verified {
        // 1. Safe paths: every entry in the directory (the directory itself was checked on open).
        let entries: [String]
        do {
            entries = try directory.entries()
        } catch {
            throw BundleRefusal(name, .read, error.description)
        }
        for entry in entries {
            do {
                try directory.checkFile(entry)
            } catch {
                throw BundleRefusal(name, .safePath, error.description)
            }
        }
        let directoryPath = directory.path
        // 2. Read the manifest and its signature, once each.
        let manifestPath = "\(directoryPath)/\(Self.manifestFileName)"
        guard entries.contains(Self.manifestFileName) else {
            throw BundleRefusal(name, .read, "\(manifestPath): missing")
        }
        let manifestBytes = try read(Self.manifestFileName, in: directory, limit: ManifestParser.maxBytes, bundle: name)
        let signaturePath = "\(directoryPath)/\(BundleSignature.fileName)"
        guard entries.contains(BundleSignature.fileName) else {
            throw BundleRefusal(name, .signature, "unsigned: \(signaturePath) is missing")
        }
        let signatureBytes = try read(
            BundleSignature.fileName,
            in: directory,
            limit: BundleSignature.maxFileBytes,
            bundle: name
        )
        // 3. Signature over the exact manifest bytes.
        let signature: BundleSignature
        do {
            signature = try BundleSignature.parse(signatureBytes, path: signaturePath)
        } catch {
            throw BundleRefusal(name, .signature, error.message)
        }
        guard let key = keys.keys[signature.keyID] else {
            throw BundleRefusal(
                name,
                .signature,
                "signed by unknown key \"\(signature.keyID)\" (no \(signature.keyID)\(TrustedKey.fileSuffix) in the trusted-keys directory)"
            )
        }
        guard key.verify(signature: signature.signature, over: manifestBytes) else {
            throw BundleRefusal(
                name,
                .signature,
                "signature by key \"\(signature.keyID)\" does not match \(Self.manifestFileName): the manifest was changed after signing"
            )
        }
        // 4. The manifest itself.
        let manifest: Manifest
        do {
            manifest = try ManifestParser.parse(manifestBytes, file: manifestPath)
        } catch {
            throw BundleRefusal(name, .manifest, error.description)
        }
        // 5. Key scope.
        guard key.allows(bundleID: manifest.bundle.id) else {
            let scopes = (key.scopes ?? []).joined(separator: ", ")
            throw BundleRefusal(
                name,
                .keyScope,
                "key \"\(key.keyID)\" may sign only [\(scopes)], not bundle \"\(manifest.bundle.id)\""
            )
        }
        // 5b. Action scope: an action id another key lists belongs to that key (docs/bundles.md).
        for action in manifest.actions {
            if let reason = key.refusal(actionID: action.id, among: keys) {
                throw BundleRefusal(name, .keyScope, reason)
            }
        }
        // 6. Rollback.
        if let accepted = acceptedSerial(manifest.bundle.id), manifest.bundle.serial < accepted {
            throw BundleRefusal(
                name,
                .serial,
                "serial \(manifest.bundle.serial) of \(manifest.bundle.id) is lower than the accepted serial \(accepted) (rollback refused)"
            )
        }
        // 7. The artifact for this platform.
        guard let artifact = manifest.bundle.artifacts[BundleABI.platform] else {
            let platforms = manifest.bundle.artifacts.keys.sorted().joined(separator: ", ")
            throw BundleRefusal(
                name,
                .artifact,
                "no artifact for platform \(BundleABI.platform) (manifest has: \(platforms))"
            )
        }
        guard entries.contains(artifact.file) else {
            throw BundleRefusal(name, .artifact, "\(directoryPath)/\(artifact.file): missing")
        }
        let libraryBytes = try read(
            artifact.file,
            in: directory,
            limit: Self.maxLibraryBytes,
            bundle: name,
            step: .artifact
        )
        // 8. Digest of the bytes read equals the signed one.
        let digest = BundleDigest.sha256Hex(libraryBytes)
        guard digest == artifact.sha256 else {
            throw BundleRefusal(
                name,
                .digest,
                "\(artifact.file): SHA-256 \(digest) does not match the manifest's \(artifact.sha256)"
            )
        }
        return Verified(
            directory: name,
            manifest: manifest,
            signature: signature,
            artifact: artifact,
            libraryBytes: libraryBytes
        )
    }

    /// Loads verified bytes (steps dlopen, handshake, bundle id). `reuse` returns an image already
    /// loaded from identical bytes, so the same library is never dlopened twice.
    public static func load(
        _ verified: Verified,
        reuse: (String) -> PluginImage? = { _ in nil }
    ) throws(BundleRefusal) -> LoadedBundle {
        if let image = reuse(verified.artifact.sha256) {
            return try bind(verified, to: image)
        }
        return try bind(verified, to: loadImage(verified))
    }

    /// Steps dlopen and handshake: the verified bytes into a sealed memfd, dlopen, the table checks.
    public static func loadImage(_ verified: Verified) throws(BundleRefusal) -> PluginImage {
        do {
            return try PluginImage.load(
                bytes: verified.libraryBytes,
                sha256: verified.artifact.sha256,
                name: verified.directory
            )
        } catch {
            throw BundleRefusal(verified.directory, BundleRefusal.Step(rawValue: error.step) ?? .dlopen, error.reason)
        }
    }

    /// The checks between a loaded image and the signed manifest (ABI declared, bundle id).
    public static func bind(_ verified: Verified, to image: PluginImage) throws(BundleRefusal) -> LoadedBundle {
        let name = verified.directory
        let sha = verified.artifact.sha256
        let manifest = verified.manifest
        let declared = manifest.bundle.abi
        guard declared.major == Int(image.abiMajor), declared.minor == Int(image.abiMinor) else {
            throw BundleRefusal(
                name,
                .handshake,
                "the signed manifest declares ABI \(declared.major).\(declared.minor) but the library reports \(image.abiMajor).\(image.abiMinor)"
            )
        }
        guard image.bundleID == manifest.bundle.id else {
            throw BundleRefusal(
                name,
                .bundleID,
                "the library reports bundle id \"\(image.bundleID)\" but the signed manifest says \"\(manifest.bundle.id)\""
            )
        }
        let ref = AgentAPI.BundleRef(
            id: manifest.bundle.id,
            version: manifest.bundle.version,
            serial: manifest.bundle.serial,
            sha256: sha,
            keyID: verified.signature.keyID
        )
        return LoadedBundle(directory: name, manifest: manifest, ref: ref, image: image)
    }

    /// Reads `file` in `directory` through one descriptor, checked with `fstat` (``SafeDirectory``).
    func read(
        _ file: String,
        in directory: SafeDirectory,
        limit: Int,
        bundle: String,
        step: BundleRefusal.Step = .read
    ) throws(BundleRefusal) -> [UInt8] {
        do throws(SafeDirectory.ReadFailure) {
            return try directory.readFile(file, limit: limit)
        } catch {
            switch error {
            case .unsafe(let unsafe): throw BundleRefusal(bundle, .safePath, unsafe.description)
            case .io(let io): throw BundleRefusal(bundle, step, io.description)
            }
        }
    }
}
