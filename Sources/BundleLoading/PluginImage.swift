public import ActionKit
import ActionPluginKit
import CActionABI
import CZumikSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A plugin library loaded from a sealed memfd holding the verified bytes.
///
/// Never unloaded (`RTLD_NODELETE`, no `dlclose`) and the memfd stays open for the life of the
/// process: glibc matches `/proc/self/fd/N` by name, so reusing the fd number could hand a later
/// `dlopen` this image.
public final class PluginImage: @unchecked Sendable {
    // Sendable: every stored property is immutable after init; the table is static storage in the plugin.
    /// The sealed memfd the library was loaded from.
    public let memfd: Int32
    /// SHA-256 of the loaded bytes (lowercase hex).
    public let sha256: String
    let table: UnsafePointer<zumik_action_table>

    /// The ABI version the library reports.
    public var abiMajor: UInt32 { table.pointee.abi_major }
    public var abiMinor: UInt32 { table.pointee.abi_minor }

    /// The bundle id the library reports.
    public var bundleID: String { String(cString: table.pointee.bundle_id) }

    struct Failure: Error {
        var step: String
        var reason: String
    }

    /// Copies `bytes` into a sealed memfd, dlopens it and checks the table against this host's ABI.
    static func load(bytes: [UInt8], sha256: String, name: String) throws(Failure) -> PluginImage {
        let fd = bytes.withUnsafeBytes { zumik_sealed_memfd("zumik-bundle-\(name)", $0.baseAddress, $0.count) }
        guard fd >= 0 else {
            throw Failure(step: "dlopen", reason: "memfd_create/seal failed: \(String(cString: strerror(errno)))")
        }
        // From here on the fd is never closed, even on failure: dlopen may have mapped it.
        guard let handle = dlopen("/proc/self/fd/\(fd)", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw Failure(step: "dlopen", reason: "dlopen failed: \(message)")
        }
        guard let symbol = dlsym(handle, BundleABI.entrySymbol) else {
            throw Failure(step: "handshake", reason: "the library does not export \(BundleABI.entrySymbol)")
        }
        typealias Entry = @convention(c) () -> UnsafeRawPointer?
        let entry = unsafeBitCast(symbol, to: Entry.self)
        guard let raw = entry() else {
            throw Failure(step: "handshake", reason: "\(BundleABI.entrySymbol) returned NULL")
        }
        // Read the fixed prefix first: a table from another ABI major may be shorter than ours.
        let magic = raw.loadUnaligned(as: UInt64.self)
        guard magic == BundleABI.magic else {
            throw Failure(
                step: "handshake",
                reason: "bad magic 0x\(String(magic, radix: 16)) (expected 0x\(String(BundleABI.magic, radix: 16)))"
            )
        }
        let major = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let minor = raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        let size = raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self)
        guard major == BundleABI.major else {
            throw Failure(
                step: "handshake",
                reason: "plugin ABI major \(major) is not this host's \(BundleABI.major)"
            )
        }
        guard minor <= BundleABI.minor else {
            throw Failure(
                step: "handshake",
                reason: "plugin ABI \(major).\(minor) is newer than this host's \(BundleABI.major).\(BundleABI.minor)"
            )
        }
        guard size == BundleABI.tableSize else {
            throw Failure(
                step: "handshake",
                reason: "plugin table is \(size) bytes, expected \(BundleABI.tableSize)"
            )
        }
        let table = raw.assumingMemoryBound(to: zumik_action_table.self)
        let signature = String(cString: table.pointee.build_signature)
        guard signature == BundleABI.buildSignature else {
            throw Failure(
                step: "handshake",
                reason: "build signature \"\(signature)\" differs from this host's \"\(BundleABI.buildSignature)\""
            )
        }
        return PluginImage(memfd: fd, sha256: sha256, table: table)
    }

    private init(memfd: Int32, sha256: String, table: UnsafePointer<zumik_action_table>) {
        self.memfd = memfd
        self.sha256 = sha256
        self.table = table
    }

    /// Whether the memfd carries all of the write/grow/shrink/seal seals.
    public var isSealed: Bool { zumik_is_fully_sealed(memfd) == 1 }

    /// Largest interpretation accepted from a plugin.
    static let maxInterpretationBytes = 1 << 20

    /// Calls the plugin's `interpret` for `actionID` and decodes its JSON answer.
    /// Returns nil when the plugin has nothing to say or answers something that is not JSON.
    public func interpret(
        actionID: String,
        exitCode: Int32?,
        signal: Int32?,
        stdout: [UInt8],
        stderr: [UInt8]
    ) -> JSONValue? {
        let status: Int32 = exitCode ?? -1
        let result = actionID.withCString { id in
            stdout.withUnsafeBufferPointer { out in
                stderr.withUnsafeBufferPointer { err in
                    table.pointee.interpret(
                        id,
                        status,
                        signal ?? 0,
                        out.baseAddress,
                        out.count,
                        err.baseAddress,
                        err.count
                    )
                }
            }
        }
        guard let result else { return nil }
        defer { table.pointee.free_string(result) }
        let length = strnlen(result, Self.maxInterpretationBytes + 1)
        guard length <= Self.maxInterpretationBytes else { return nil }
        let data = Data(bytes: result, count: length)
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }
}
