import CActionABI

/// The ABI version and build signature both sides of the plugin boundary compare.
///
/// The host and every bundle compile this same file, so a bundle built by another compiler
/// (or for another ABI) carries a different ``buildSignature`` and is refused at handshake.
public enum BundleABI {
    public static let magic: UInt64 = 0x3142_414B_494D_555A  // "ZUMIKAB1", little-endian
    public static let major: UInt32 = 1
    public static let minor: UInt32 = 0
    public static let entrySymbol = "zumik_action_bundle_entry"
    public static let tableSize = UInt32(MemoryLayout<zumik_action_table>.size)

    /// Names the ABI, the Swift compiler and the platform. Compared byte for byte at load.
    public static var buildSignature: String {
        "zumik-abi/\(major);swift/\(swiftVersion);\(platform)"
    }

    /// The platform key used in manifests' `artifacts` map, e.g. `linux-x86_64`.
    public static var platform: String {
        #if os(Linux) && arch(x86_64)
        "linux-x86_64"
        #elseif os(Linux) && arch(arm64)
        "linux-aarch64"
        #elseif os(macOS) && arch(arm64)
        "macos-arm64"
        #else
        "unknown"
        #endif
    }

    static var swiftVersion: String {
        #if compiler(>=7.0)
        "7+"
        #elseif compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3.1)
        "6.3.1"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.x"
        #endif
    }
}
