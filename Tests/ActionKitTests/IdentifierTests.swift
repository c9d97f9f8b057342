import ActionKit
import Testing

/// The identifier rules, each in one place (issue #10).
@Suite struct IdentifierTests {
    @Test func actionIDs() {
        #expect(ActionID("restart_api_core")?.rawValue == "restart_api_core")
        for invalid in ["", "A", "1abc", "_a", "a-b", "a b", "ré", String(repeating: "a", count: 65)] {
            #expect(ActionID(invalid) == nil, "\(invalid)")
        }
        #expect(ManifestParser.actionIDProblem("Bad")?.contains("^[a-z][a-z0-9_]{0,63}$") == true)
    }

    @Test func bundleIDs() {
        #expect(BundleID("ai.zumik.docker") != nil)
        #expect(BundleID("ai.zumik-x.v2") != nil)
        for invalid in [
            "", "ai", "Ai.zumik", "ai..zumik", "ai.zumik.", ".ai", "ai.zu_mik",
            String(repeating: "a.", count: 65) + "a",
        ] {
            #expect(BundleID(invalid) == nil, "\(invalid)")
            #expect(!ManifestParser.isValidBundleID(invalid), "\(invalid)")
        }
    }

    @Test func keyIDs() {
        #expect(KeyID("ops-2026")?.description == "ops-2026")
        #expect(KeyID("Ops_2026.b") != nil)
        for invalid in ["", "-ops", ".ops", "ops/2026", "ops 2026", String(repeating: "k", count: 65)] {
            #expect(KeyID(invalid) == nil, "\(invalid)")
            #expect(!isValidKeyID(invalid), "\(invalid)")
        }
    }
}
