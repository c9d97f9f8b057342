import ActionPluginKit
import CActionABI

// A template for a third action bundle: copy this directory, rename the target in Package.swift,
// change the bundle id here AND in manifest.json (they must match), then write the readers.
// docs/adding-a-bundle.md walks through building, packing, signing and deploying it.

/// The table this bundle's entry symbol returns. Built once, on first use, in this image.
private let table = ActionTable(bundleID: "ai.zumik.host") { id, status, signal, out, outLen, err, errLen in
    CommandOutput.interpret(id, status, signal, out, outLen, err, errLen, with: HostReaders.read)
}

/// The bundle's entry symbol: see `zumik_action_abi.h`.
@_cdecl("zumik_action_bundle_entry")
public func zumikActionBundleEntry() -> UnsafePointer<zumik_action_table> {
    table.pointer
}
