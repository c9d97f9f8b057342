import ActionPluginKit
import CActionABI
import Testing

@Suite struct ABITests {
    @Test func swiftConstantsMatchTheCHeader() {
        #expect(BundleABI.magic == ZUMIK_ACTION_MAGIC)
        #expect(BundleABI.major == UInt32(ZUMIK_ACTION_ABI_MAJOR))
        #expect(BundleABI.minor == UInt32(ZUMIK_ACTION_ABI_MINOR))
        #expect(BundleABI.entrySymbol == ZUMIK_ACTION_ENTRY_SYMBOL)
        #expect(BundleABI.tableSize == UInt32(MemoryLayout<zumik_action_table>.size))
    }

    @Test func buildSignatureNamesABICompilerAndPlatform() {
        let signature = BundleABI.buildSignature
        #expect(signature.hasPrefix("zumik-abi/\(BundleABI.major);swift/"))
        #expect(signature.hasSuffix(";\(BundleABI.platform)"))
        #expect(!signature.contains("unknown"))
    }
}
