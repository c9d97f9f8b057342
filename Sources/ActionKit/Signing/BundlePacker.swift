public import ActionPluginKit

/// Builds signed bundle directories: the `pack` and `sign` halves of `zumik-actions`, shared with
/// the test support so tests sign bundles exactly as operators do.
public enum BundlePacker {
    /// A written bundle.
    public struct Packed: Sendable {
        public var directory: String
        public var manifest: Manifest
        public var manifestBytes: [UInt8]
        public var signature: BundleSignature
    }

    /// Fills a manifest template: `bundle.artifacts` becomes exactly this platform's library and
    /// digest, `bundle.serial` is replaced when given. The result is validated.
    /// - Parameter templatePath: used in error messages.
    public static func fill(
        template: [UInt8],
        templatePath: String,
        libraryFileName: String,
        libraryBytes: [UInt8],
        serial: Int? = nil,
        platform: String = BundleABI.platform
    ) throws(ManifestError) -> (manifest: Manifest, bytes: [UInt8]) {
        let tree: JSONTree
        do {
            tree = try JSONTreeParser.parse(template)
        } catch {
            throw ManifestError(file: templatePath, issues: [.init(path: "$", message: error.description)])
        }
        guard let bundle = tree["bundle"], case .object = bundle else {
            throw ManifestError(
                file: templatePath,
                issues: [.init(path: "$.bundle", message: "required object is missing")]
            )
        }
        var filled = bundle.setting(
            "artifacts",
            to: .object([
                (
                    platform,
                    .object([
                        ("file", .string(libraryFileName)),
                        ("sha256", .string(BundleDigest.sha256Hex(libraryBytes))),
                    ])
                )
            ])
        )
        if let serial { filled = filled.setting("serial", to: .number(String(serial))) }
        let bytes = tree.setting("bundle", to: filled).serialized()
        let manifest = try ManifestParser.parse(bytes, file: templatePath)
        return (manifest, bytes)
    }

    /// `pack`: writes `directory` (created 0755; must not already hold a manifest) with the library,
    /// `manifest.json` exactly as signed, and `manifest.sig`.
    public static func pack(
        template: [UInt8],
        templatePath: String,
        libraryPath: String,
        key: SigningKey,
        directory: String,
        serial: Int? = nil
    ) throws(PackError) -> Packed {
        let libraryBytes: [UInt8]
        do {
            libraryBytes = try FileIO.read(libraryPath, limit: 64 << 20)
        } catch {
            throw PackError("library: \(error)")
        }
        let fileName = libraryPath.split(separator: "/").last.map(String.init) ?? libraryPath
        let filled: (manifest: Manifest, bytes: [UInt8])
        do {
            filled = try fill(
                template: template,
                templatePath: templatePath,
                libraryFileName: fileName,
                libraryBytes: libraryBytes,
                serial: serial
            )
        } catch {
            throw PackError(error.description)
        }
        let signature: BundleSignature
        do {
            signature = try key.sign(manifest: filled.bytes)
        } catch {
            throw PackError(error.message)
        }
        let manifestPath = "\(directory)/manifest.json"
        guard !FileIO.exists(manifestPath) else {
            throw PackError("\(manifestPath): already exists; pack into a new directory")
        }
        do {
            try FileIO.makeDirectory(directory, mode: 0o755)
            try FileIO.replaceAtomically("\(directory)/\(fileName)", bytes: libraryBytes, mode: 0o644)
            try FileIO.replaceAtomically(manifestPath, bytes: filled.bytes, mode: 0o644)
            try FileIO.replaceAtomically(
                "\(directory)/\(BundleSignature.fileName)",
                bytes: signature.fileBytes,
                mode: 0o644
            )
        } catch {
            throw PackError(error.description)
        }
        return Packed(
            directory: directory,
            manifest: filled.manifest,
            manifestBytes: filled.bytes,
            signature: signature
        )
    }

    /// `sign`: (re)signs the bundle's `manifest.json` as it is, after checking it is valid and its
    /// artifact for this platform matches the library in the directory.
    public static func sign(directory: String, key: SigningKey) throws(PackError) -> Packed {
        let manifestPath = "\(directory)/manifest.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(manifestPath, limit: ManifestParser.maxBytes)
        } catch {
            throw PackError(error.description)
        }
        let manifest: Manifest
        do {
            manifest = try ManifestParser.parse(bytes, file: manifestPath)
        } catch {
            throw PackError(error.description)
        }
        if let artifact = manifest.bundle.artifacts[BundleABI.platform] {
            let libraryPath = "\(directory)/\(artifact.file)"
            let library: [UInt8]
            do {
                library = try FileIO.read(libraryPath, limit: 64 << 20)
            } catch {
                throw PackError(error.description)
            }
            let digest = BundleDigest.sha256Hex(library)
            guard digest == artifact.sha256 else {
                throw PackError("\(libraryPath): SHA-256 \(digest) does not match the manifest's \(artifact.sha256)")
            }
        }
        let signature: BundleSignature
        do {
            signature = try key.sign(manifest: bytes)
            try FileIO.replaceAtomically(
                "\(directory)/\(BundleSignature.fileName)",
                bytes: signature.fileBytes,
                mode: 0o644
            )
        } catch let error as SigningError {
            throw PackError(error.message)
        } catch {
            throw PackError("\(error)")
        }
        return Packed(directory: directory, manifest: manifest, manifestBytes: bytes, signature: signature)
    }

    public struct PackError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(_ message: String) { self.message = message }
    }
}
