import ActionKit
import Foundation
import Testing
import ZumikTestSupport

@Suite struct SigningTests {
    @Test func scopesMatchExactIDsAndPrefixes() throws {
        let key = try SigningKey.generate(keyID: "k")
        #expect(key.trustedKey(scopes: nil).allows(bundleID: "anything.at.all"))
        let zumik = key.trustedKey(scopes: ["ai.zumik.*"])
        #expect(zumik.allows(bundleID: "ai.zumik.docker"))
        #expect(!zumik.allows(bundleID: "ai.zumikevil.docker"))
        #expect(!zumik.allows(bundleID: "com.example.docker"))
        let exact = key.trustedKey(scopes: ["ai.zumik.nginx"])
        #expect(exact.allows(bundleID: "ai.zumik.nginx"))
        #expect(!exact.allows(bundleID: "ai.zumik.nginx2"))
        #expect(!key.trustedKey(scopes: []).allows(bundleID: "ai.zumik.nginx"), "an empty scope list allows nothing")
    }

    @Test func signatureCoversEveryByte() throws {
        let key = try SigningKey.generate(keyID: "k")
        let bytes = Array("{\"manifest_version\": 1}".utf8)
        let signature = try key.sign(manifest: bytes)
        let trusted = key.trustedKey()
        #expect(trusted.verify(signature: signature.signature, over: bytes))
        for index in bytes.indices {
            var changed = bytes
            changed[index] ^= 0x20
            #expect(!trusted.verify(signature: signature.signature, over: changed))
        }
        #expect(!trusted.verify(signature: signature.signature, over: bytes + [0x0A]))
        let other = try SigningKey.generate(keyID: "k").trustedKey()
        #expect(!other.verify(signature: signature.signature, over: bytes))
        // The file round-trips.
        let parsed = try BundleSignature.parse(signature.fileBytes, path: "manifest.sig")
        #expect(parsed == signature)
    }

    @Test func keyFilesRoundTripAndPrivateKeysMustBePrivate() throws {
        let factory = try TestBundleFactory()
        defer { factory.remove() }
        let key = try factory.makeKey(id: "ops-2026", scopes: ["ai.zumik.*"])
        let path = factory.privateKeyPath(id: "ops-2026")
        let loaded = try SigningKey.load(path: path)
        #expect(loaded.trustedKey().publicKeyBytes == key.trustedKey().publicKeyBytes)
        try #require(chmod(path, 0o644) == 0)
        do {
            _ = try SigningKey.load(path: path)
            Issue.record("a world-readable private key must be refused")
        } catch {
            #expect(error.message.contains("must not be readable by group or others (mode 644)"))
        }
        #expect(throws: SigningError.self) { try key.write(to: path) }  // never overwrites
    }

    @Test func badTrustedKeyFilesAreSkippedWithAReason() throws {
        let factory = try TestBundleFactory()
        defer { factory.remove() }
        try factory.makeKey(id: "good")
        let other = try SigningKey.generate(keyID: "named-wrong")
        let directory = factory.trustedKeysDirectory
        try Data(other.trustedKey().fileBytes).write(to: URL(fileURLWithPath: "\(directory)/not-its-id.pub.json"))
        try Data("{\"key_id\":\"x\"}".utf8).write(to: URL(fileURLWithPath: "\(directory)/x.pub.json"))
        try Data(
            "{\"key_id\":\"short\",\"algorithm\":\"ed25519\",\"public_key\":\"AAAA\"}".utf8
        ).write(to: URL(fileURLWithPath: "\(directory)/short.pub.json"))
        try Data(
            "{\"key_id\":\"rsa\",\"algorithm\":\"rsa\",\"public_key\":\"AAAA\"}".utf8
        ).write(to: URL(fileURLWithPath: "\(directory)/rsa.pub.json"))
        try Data("ignored".utf8).write(to: URL(fileURLWithPath: "\(directory)/README"))
        let store = try TrustedKeyStore.load(directory: directory)
        #expect(Array(store.keys.keys) == ["good"])
        #expect(store.problems.count == 4)
        #expect(store.problems.contains { $0.contains("not-its-id.pub.json: file name must be named-wrong.pub.json") })
        #expect(store.problems.contains { $0.contains("x.pub.json: not a trusted key file") })
        #expect(store.problems.contains { $0.contains("short.pub.json: public_key must be base64 of 32 raw bytes") })
        #expect(store.problems.contains { $0.contains("rsa.pub.json: algorithm must be \"ed25519\"") })
    }

    @Test func badScopesAreRefused() throws {
        let key = try SigningKey.generate(keyID: "k")
        for scope in ["ai.*.docker", "ai.zumik*", "*.zumik.ai", ""] {
            #expect(throws: SigningError.self, "\(scope)") {
                try TrustedKey.parse(key.trustedKey(scopes: [scope]).fileBytes, path: "k.pub.json")
            }
        }
        for scope in ["*", "ai.zumik.*", "ai.zumik.docker"] {
            _ = try TrustedKey.parse(key.trustedKey(scopes: [scope]).fileBytes, path: "k.pub.json")
        }
    }

    @Test func malformedSignatureFilesAreRefused() {
        for text in [
            "", "{}", "{\"key_id\":\"k\",\"algorithm\":\"ed25519\",\"signature\":\"AAAA\"}",
            "{\"key_id\":\"k\",\"algorithm\":\"rsa\",\"signature\":\"\(String(repeating: "A", count: 88))\"}",
            "{\"key_id\":\"../k\",\"algorithm\":\"ed25519\",\"signature\":\"\(String(repeating: "A", count: 86))==\"}",
        ] {
            #expect(throws: SigningError.self, "\(text)") { try BundleSignature.parse(Array(text.utf8), path: "s") }
        }
    }
}
