import ActionPluginKit
import CActionABI

/// A bundle built for an ABI major version the host does not speak. The host must refuse it at
/// handshake and never call `interpret`.
private let table = ActionTable(bundleID: "ai.zumik.test.wrongabi", abiMajor: 99) { _, _, _, _, _, _, _ in
    nil
}

@_cdecl("zumik_action_bundle_entry")
public func zumikActionBundleEntry() -> UnsafePointer<zumik_action_table> {
    table.pointer
}
