public import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A signing or verification failure, with a message that names the file or key.
public struct SigningError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// Key ids: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$` (they name files in the trusted-keys directory).
public func isValidKeyID(_ text: String) -> Bool { KeyID.isValid(text) }

/// The private key file: `{"key_id":…,"algorithm":"ed25519","private_key":"<base64 of 32 raw bytes>"}`, mode 0600.
public struct SigningKey: Sendable {
    public let keyID: String
    // Raw bytes, not the swift-crypto key: its types are not Sendable in swift-crypto 3.
    private let rawPrivateKey: [UInt8]

    /// The Ed25519 private key.
    public var privateKey: Curve25519.Signing.PrivateKey {
        // Cannot fail: the bytes came from a valid key.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey)
    }

    public init(keyID: String, privateKey: Curve25519.Signing.PrivateKey) throws(SigningError) {
        guard isValidKeyID(keyID) else {
            throw SigningError("key id \"\(keyID)\" must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
        }
        self.keyID = keyID
        self.rawPrivateKey = Array(privateKey.rawRepresentation)
    }

    /// A fresh random key.
    public static func generate(keyID: String) throws(SigningError) -> SigningKey {
        try SigningKey(keyID: keyID, privateKey: Curve25519.Signing.PrivateKey())
    }

    struct File: Codable {
        var keyID: String
        var algorithm: String
        var privateKey: String
        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case algorithm
            case privateKey = "private_key"
        }
    }

    /// Reads a private key file.
    public static func load(path: String) throws(SigningError) -> SigningKey {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 16 * 1024)
            let mode = try FileIO.permissions(path)
            guard mode & 0o077 == 0 else {
                throw FileIOError(
                    path: path,
                    message:
                        "a private key must not be readable by group or others (mode \(String(mode, radix: 8))); chmod 600 it"
                )
            }
        } catch {
            throw SigningError("cannot read private key: \(error)")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw SigningError("\(path): not a private key file (expected key_id, algorithm, private_key)")
        }
        guard file.algorithm == "ed25519" else {
            throw SigningError("\(path): algorithm must be \"ed25519\" (got \"\(file.algorithm)\")")
        }
        guard let raw = Data(base64Encoded: file.privateKey), raw.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw SigningError("\(path): private_key must be base64 of 32 raw bytes") }
        do {
            return try SigningKey(keyID: file.keyID, privateKey: key)
        } catch {
            throw SigningError("\(path): \(error)")
        }
    }

    /// The private key file's bytes.
    public var fileBytes: [UInt8] {
        let file = File(
            keyID: keyID,
            algorithm: "ed25519",
            privateKey: privateKey.rawRepresentation.base64EncodedString()
        )
        return Array(encodePretty(file))
    }

    /// Writes the private key to a new file with mode 0600 (never overwrites).
    public func write(to path: String) throws(SigningError) {
        do {
            try FileIO.createExclusive(path, bytes: fileBytes, mode: 0o600)
        } catch {
            throw SigningError("cannot write private key: \(error)")
        }
    }

    /// The matching trusted-key entry.
    public func trustedKey(scopes: [String]? = nil, actions: [String]? = nil) -> TrustedKey {
        TrustedKey(keyID: keyID, publicKey: privateKey.publicKey, scopes: scopes, actions: actions)
    }

    /// Signs the exact manifest bytes.
    public func sign(manifest bytes: [UInt8]) throws(SigningError) -> BundleSignature {
        do {
            let signature = try privateKey.signature(for: bytes)
            return BundleSignature(keyID: keyID, signature: Array(signature))
        } catch {
            throw SigningError("signing failed: \(error)")
        }
    }
}

/// One entry of the trusted-keys directory, file `<key_id>.pub.json`:
/// `{"key_id":…,"algorithm":"ed25519","public_key":"<base64 raw 32>","scopes":["ai.zumik.*"]}`.
///
/// `scopes` is optional: absent means the key may sign any bundle. A pattern is an exact bundle id,
/// `*`, or a prefix ending in `*` (`ai.zumik.*` matches `ai.zumik.docker`).
///
/// `actions` is optional too: the action ids the key's bundles may declare, as exact ids, `*`, or a
/// prefix ending in `*` (`docker_*`). An action id a key lists belongs to that key: a bundle signed
/// by any other key that declares it is refused (see ``allows(actionID:among:)``).
public struct TrustedKey: Sendable {
    public let keyID: String
    public let scopes: [String]?
    public let actions: [String]?
    // Raw bytes, not the swift-crypto key: its types are not Sendable in swift-crypto 3.
    private let rawPublicKey: [UInt8]

    /// The raw 32-byte public key.
    public var publicKeyBytes: [UInt8] { rawPublicKey }

    /// The Ed25519 public key.
    public var publicKey: Curve25519.Signing.PublicKey {
        // Cannot fail: the bytes came from a valid key.
        try! Curve25519.Signing.PublicKey(rawRepresentation: rawPublicKey)
    }

    public init(
        keyID: String,
        publicKey: Curve25519.Signing.PublicKey,
        scopes: [String]?,
        actions: [String]? = nil
    ) {
        self.keyID = keyID
        self.rawPublicKey = Array(publicKey.rawRepresentation)
        self.scopes = scopes
        self.actions = actions
    }

    public static let fileSuffix = ".pub.json"

    struct File: Codable {
        var keyID: String
        var algorithm: String
        var publicKey: String
        var scopes: [String]?
        var actions: [String]?
        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case algorithm
            case publicKey = "public_key"
            case scopes
            case actions
        }
    }

    /// Whether this key may sign bundle `bundleID`.
    public func allows(bundleID: String) -> Bool {
        guard let scopes else { return true }
        return scopes.contains { pattern in
            if pattern.hasSuffix("*") {
                return bundleID.hasPrefix(pattern.dropLast())
            }
            return pattern == bundleID
        }
    }

    public func verify(signature: [UInt8], over bytes: [UInt8]) -> Bool {
        publicKey.isValidSignature(signature, for: bytes)
    }

    public var fileBytes: [UInt8] {
        let file = File(
            keyID: keyID,
            algorithm: "ed25519",
            publicKey: publicKey.rawRepresentation.base64EncodedString(),
            scopes: scopes,
            actions: actions
        )
        return Array(encodePretty(file))
    }

    /// Parses a `.pub.json` file's bytes; `path` is used in messages.
    public static func parse(_ bytes: [UInt8], path: String) throws(SigningError) -> TrustedKey {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw SigningError(
                "\(path): not a trusted key file (expected key_id, algorithm, public_key, scopes?, actions?)"
            )
        }
        guard isValidKeyID(file.keyID) else {
            throw SigningError("\(path): key_id must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
        }
        guard file.algorithm == "ed25519" else {
            throw SigningError("\(path): algorithm must be \"ed25519\" (got \"\(file.algorithm)\")")
        }
        guard let raw = Data(base64Encoded: file.publicKey), raw.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { throw SigningError("\(path): public_key must be base64 of 32 raw bytes") }
        if let scopes = file.scopes {
            for scope in scopes {
                let body = scope.hasSuffix("*") ? String(scope.dropLast()) : scope
                let ok =
                    scope == "*"
                    || (scope.hasSuffix("*") && body.hasSuffix(".")
                        && ManifestParser.isValidBundleID(body + "x"))
                    || ManifestParser.isValidBundleID(scope)
                guard ok else {
                    throw SigningError(
                        "\(path): scope \"\(scope)\" must be a bundle id, \"*\", or a prefix ending in \".*\""
                    )
                }
            }
        }
        for pattern in file.actions ?? [] where !isValidActionPattern(pattern) {
            throw SigningError(
                "\(path): actions entry \"\(pattern)\" must be an action id, \"*\", or an action id prefix ending in \"*\""
            )
        }
        return TrustedKey(keyID: file.keyID, publicKey: key, scopes: file.scopes, actions: file.actions)
    }
}

/// `manifest.sig`: `{"key_id":…,"algorithm":"ed25519","signature":"<base64>"}` over the exact manifest bytes.
public struct BundleSignature: Sendable, Hashable {
    public var keyID: String
    public var signature: [UInt8]

    public init(keyID: String, signature: [UInt8]) {
        self.keyID = keyID
        self.signature = signature
    }

    public static let fileName = "manifest.sig"
    public static let maxFileBytes = 4096

    struct File: Codable {
        var keyID: String
        var algorithm: String
        var signature: String
        enum CodingKeys: String, CodingKey {
            case keyID = "key_id"
            case algorithm
            case signature
        }
    }

    public var fileBytes: [UInt8] {
        Array(encodePretty(File(keyID: keyID, algorithm: "ed25519", signature: Data(signature).base64EncodedString())))
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(SigningError) -> BundleSignature {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw SigningError("\(path): not a signature file (expected key_id, algorithm, signature)")
        }
        guard file.algorithm == "ed25519" else {
            throw SigningError("\(path): algorithm must be \"ed25519\" (got \"\(file.algorithm)\")")
        }
        guard isValidKeyID(file.keyID) else {
            throw SigningError("\(path): key_id must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
        }
        guard let raw = Data(base64Encoded: file.signature), raw.count == 64 else {
            throw SigningError("\(path): signature must be base64 of 64 bytes")
        }
        return BundleSignature(keyID: file.keyID, signature: Array(raw))
    }
}

/// The trusted-keys directory: every `*.pub.json` file, keyed by key id.
public struct TrustedKeyStore: Sendable {
    public var keys: [String: TrustedKey]
    /// Files that were skipped, one message each (a bad key file never stops the others).
    public var problems: [String]

    public init(keys: [TrustedKey]) {
        self.keys = Dictionary(keys.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        self.problems = []
    }

    /// Reads every `<key_id>.pub.json` in `directory`. The directory must exist.
    public static func load(directory: String) throws(SigningError) -> TrustedKeyStore {
        let names: [String]
        do {
            names = try FileIO.list(directory)
        } catch {
            throw SigningError("trusted-keys directory: \(error)")
        }
        return load(directory: directory, names: names) { path throws(SigningError) in
            do {
                return try FileIO.read(path, limit: maxKeyFileBytes)
            } catch {
                throw SigningError("\(error)")
            }
        }
    }

    /// Largest trusted-key file read.
    public static let maxKeyFileBytes = 16 * 1024

    /// Parses every `<key_id>.pub.json` among `names`, reading each through `read` (given the
    /// file's path in `directory`), so a caller can read through descriptors it checked.
    public static func load(
        directory: String,
        names: [String],
        read: (String) throws(SigningError) -> [UInt8]
    ) -> TrustedKeyStore {
        var store = TrustedKeyStore(keys: [])
        for name in names where name.hasSuffix(TrustedKey.fileSuffix) {
            let path = "\(directory)/\(name)"
            do throws(SigningError) {
                let bytes = try read(path)
                let key = try TrustedKey.parse(bytes, path: path)
                guard name == key.keyID + TrustedKey.fileSuffix else {
                    throw SigningError("\(path): file name must be \(key.keyID)\(TrustedKey.fileSuffix)")
                }
                store.keys[key.keyID] = key
            } catch {
                store.problems.append(error.message)
            }
        }
        return store
    }
}

/// Sorted keys, pretty-printed, with a trailing newline: stable bytes for files people read and diff.
func encodePretty(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = (try? encoder.encode(value)) ?? Data()
    data.append(0x0A)
    return data
}
