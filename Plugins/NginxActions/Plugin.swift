import ActionPluginKit
import CActionABI

/// The table this bundle's entry symbol returns. Built once, on first use, in this image.
private let table = ActionTable(bundleID: "ai.zumik.nginx") { id, status, signal, out, outLen, err, errLen in
    CommandOutput.interpret(id, status, signal, out, outLen, err, errLen, with: NginxReaders.read)
}

/// The bundle's entry symbol: see `zumik_action_abi.h`.
@_cdecl("zumik_action_bundle_entry")
public func zumikActionBundleEntry() -> UnsafePointer<zumik_action_table> {
    table.pointer
}
