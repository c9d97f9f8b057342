/// The top-level walk: `manifest_version`, the bundle block, the artifact map and the action list.
extension ManifestValidator {
    mutating func manifest(_ tree: JSONTree) -> Manifest? {
        guard
            let top = object(tree, at: "$", required: ["manifest_version", "bundle", "actions"])
        else { return nil }
        let version = integer(top["manifest_version"], at: "$.manifest_version", range: 0...Int.max)
        if let version, version != 1 {
            fail("$.manifest_version", "must be 1 (got \(version))")
        }
        let bundle = top["bundle"].flatMap { bundleInfo($0, at: "$.bundle") }
        let actions = top["actions"].flatMap { actionList($0, at: "$.actions") }
        guard version == 1, let bundle, let actions else { return nil }
        return Manifest(manifestVersion: 1, bundle: bundle, actions: actions)
    }

    mutating func bundleInfo(_ value: JSONTree, at path: String) -> BundleInfo? {
        guard
            let fields = object(value, at: path, required: ["id", "version", "serial", "abi", "artifacts"])
        else { return nil }
        var id = string(fields["id"], at: child(path, "id"))
        if let text = id, !ManifestParser.isValidBundleID(text) {
            fail(
                child(path, "id"),
                "must be a reverse-DNS id matching ^[a-z0-9]+(\\.[a-z0-9-]+)+$ (got \(ManifestParser.quoted(text)))"
            )
            id = nil
        }
        var version = string(fields["version"], at: child(path, "version"))
        if let text = version, !printableASCII(text, at: child(path, "version"), what: "version", maxLength: 64) {
            version = nil
        }
        let serial = integer(fields["serial"], at: child(path, "serial"), range: 1...Int.max)
        let abi = fields["abi"].flatMap { abiVersion($0, at: child(path, "abi")) }
        let artifacts = fields["artifacts"].flatMap { artifactMap($0, at: child(path, "artifacts")) }
        guard let id, let version, let serial, let abi, let artifacts else { return nil }
        return BundleInfo(id: id, version: version, serial: serial, abi: abi, artifacts: artifacts)
    }

    mutating func abiVersion(_ value: JSONTree, at path: String) -> ABIVersion? {
        guard let fields = object(value, at: path, required: ["major", "minor"]) else { return nil }
        let major = integer(fields["major"], at: child(path, "major"), range: 0...Int(UInt32.max))
        let minor = integer(fields["minor"], at: child(path, "minor"), range: 0...Int(UInt32.max))
        guard let major, let minor else { return nil }
        return ABIVersion(major: major, minor: minor)
    }

    mutating func artifactMap(_ value: JSONTree, at path: String) -> [String: Artifact]? {
        guard case .object(let members) = value else {
            fail(path, "must be an object (got \(value.typeName))")
            return nil
        }
        guard !members.isEmpty else {
            fail(path, "must name at least one platform")
            return nil
        }
        var result: [String: Artifact] = [:]
        var ok = true
        for member in members {
            let memberPath = child(path, member.key)
            let platformOK =
                !member.key.isEmpty && member.key.utf8.count <= 64
                && member.key.utf8.allSatisfy {
                    ManifestParser.isLower($0) || ManifestParser.isDigit($0) || $0 == UInt8(ascii: "-")
                        || $0 == UInt8(ascii: "_")
                }
            if !platformOK {
                fail(memberPath, "platform key must match ^[a-z0-9_-]{1,64}$")
                ok = false
            }
            guard let fields = object(member.value, at: memberPath, required: ["file", "sha256"]) else {
                ok = false
                continue
            }
            let file = string(fields["file"], at: child(memberPath, "file"))
            if let file, !isPlainFileName(file) {
                fail(
                    child(memberPath, "file"),
                    "must be a plain file name inside the bundle directory (got \(ManifestParser.quoted(file)))"
                )
                ok = false
            }
            let digest = string(fields["sha256"], at: child(memberPath, "sha256"))
            if let digest, !(digest.utf8.count == 64 && digest.utf8.allSatisfy(isLowerHex)) {
                fail(
                    child(memberPath, "sha256"),
                    "must be 64 lowercase hex digits (got \(ManifestParser.quoted(digest)))"
                )
                ok = false
            }
            if let file, let digest, platformOK {
                result[member.key] = Artifact(file: file, sha256: digest)
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }

    func isLowerHex(_ b: UInt8) -> Bool {
        ManifestParser.isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }

    func isPlainFileName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix("."),
            name != "manifest.json", name != "manifest.sig"
        else { return false }
        return name.utf8.allSatisfy {
            ManifestParser.isLower($0) || ManifestParser.isDigit($0) || ($0 >= 0x41 && $0 <= 0x5A)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    mutating func actionList(_ value: JSONTree, at path: String) -> [ActionSpec]? {
        guard
            let elements = boundedArray(
                value,
                at: path,
                maximum: ManifestParser.maxActions,
                empty: "must declare at least one action",
                tooMany: "must declare at most \(ManifestParser.maxActions) actions"
            )
        else { return nil }
        var actions: [ActionSpec] = []
        var firstPathOfID: [String: String] = [:]
        var ok = true
        for (index, element) in elements.enumerated() {
            let actionPath = child(path, index)
            if case .object(let members) = element,
                let idValue = members.first(where: { $0.key == "id" })?.value,
                case .string(let id) = idValue
            {
                if let earlier = firstPathOfID[id] {
                    fail(
                        child(actionPath, "id"),
                        "duplicate action id \(ManifestParser.quoted(id)) (first at \(earlier))"
                    )
                    ok = false
                } else {
                    firstPathOfID[id] = actionPath
                }
            }
            if let action = actionSpec(element, at: actionPath) {
                actions.append(action)
            } else {
                ok = false
            }
        }
        return ok ? actions : nil
    }
}
