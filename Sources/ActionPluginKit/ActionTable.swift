public import CActionABI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The table a bundle's entry symbol returns, allocated once and never freed.
///
/// Each plugin owns its table: declare it as a global `let` in the plugin module and return
/// ``pointer`` from the `@_cdecl("zumik_action_bundle_entry")` function. (Host and plugin each
/// link their own copy of this module, so a global here would not be shared anyway.)
///
/// ```swift
/// private let table = ActionTable(bundleID: "ai.zumik.example") { id, status, signal, out, outLen, err, errLen in
///     CommandOutput.interpret(id, status, signal, out, outLen, err, errLen, with: ExampleReaders.read)
/// }
/// @_cdecl("zumik_action_bundle_entry")
/// public func zumikActionBundleEntry() -> UnsafeRawPointer { UnsafeRawPointer(table.pointer) }
/// ```
public final class ActionTable: @unchecked Sendable {
    // Sendable: the table is written once in init and only read afterwards, from any thread.
    public let pointer: UnsafePointer<zumik_action_table>

    /// - Parameters: the version fields default to this build's; only test plugins override them.
    public init(
        bundleID: String,
        magic: UInt64 = BundleABI.magic,
        abiMajor: UInt32 = BundleABI.major,
        abiMinor: UInt32 = BundleABI.minor,
        structSize: UInt32 = BundleABI.tableSize,
        buildSignature: String = BundleABI.buildSignature,
        interpret: zumik_action_interpret_fn
    ) {
        let table = UnsafeMutablePointer<zumik_action_table>.allocate(capacity: 1)
        table.initialize(
            to: zumik_action_table(
                magic: magic,
                abi_major: abiMajor,
                abi_minor: abiMinor,
                struct_size: structSize,
                reserved: 0,
                build_signature: UnsafePointer(strdup(buildSignature)!),
                bundle_id: UnsafePointer(strdup(bundleID)!),
                interpret: interpret,
                free_string: { free($0) }
            )
        )
        pointer = UnsafePointer(table)
    }
}
