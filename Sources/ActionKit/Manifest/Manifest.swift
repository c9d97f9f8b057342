/// A bundle manifest, version 1: the signed allowlist of one action bundle.
///
/// Parsing and validation live in ``ManifestParser``: it rejects unknown keys, wrong types
/// and every rule below with the file, JSON path and rule broken. These types are only ever
/// built from a manifest that passed it.
public struct Manifest: Sendable, Hashable, Codable {
    /// Always 1 for this format.
    public var manifestVersion: Int
    public var bundle: BundleInfo
    public var actions: [ActionSpec]

    public init(manifestVersion: Int = 1, bundle: BundleInfo, actions: [ActionSpec]) {
        self.manifestVersion = manifestVersion
        self.bundle = bundle
        self.actions = actions
    }

    enum CodingKeys: String, CodingKey {
        case manifestVersion = "manifest_version"
        case bundle
        case actions
    }
}

public struct BundleInfo: Sendable, Hashable, Codable {
    /// Reverse-DNS style, e.g. `ai.zumik.docker`.
    public var id: String
    public var version: String
    /// Monotonic per bundle id; a lower serial than one already accepted is refused (rollback).
    public var serial: Int
    public var abi: ABIVersion
    /// Platform key (``BundleABI/platform``) → the plugin library for that platform.
    public var artifacts: [String: Artifact]

    public init(id: String, version: String, serial: Int, abi: ABIVersion, artifacts: [String: Artifact]) {
        self.id = id
        self.version = version
        self.serial = serial
        self.abi = abi
        self.artifacts = artifacts
    }
}

public struct ABIVersion: Sendable, Hashable, Codable {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
}

public struct Artifact: Sendable, Hashable, Codable {
    /// File name inside the bundle directory (no path separators).
    public var file: String
    /// Lowercase hex SHA-256 of the file's bytes.
    public var sha256: String
    public init(file: String, sha256: String) {
        self.file = file
        self.sha256 = sha256
    }
}

public enum ActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Read-only: reads state, changes nothing.
    case diagnostic
    /// Changes the system to fix it.
    case remediation
}

public struct ActionLimits: Sendable, Hashable, Codable {
    /// Minimum seconds between two runs of this action.
    public var cooldownS: Int?
    /// At most `maxRuns` runs in any `windowS` seconds.
    public var maxRuns: Int?
    public var windowS: Int?

    public init(cooldownS: Int? = nil, maxRuns: Int? = nil, windowS: Int? = nil) {
        self.cooldownS = cooldownS
        self.maxRuns = maxRuns
        self.windowS = windowS
    }

    enum CodingKeys: String, CodingKey {
        case cooldownS = "cooldown_s"
        case maxRuns = "max_runs"
        case windowS = "window_s"
    }
}

/// One allowlisted action: a fixed argv, never templated from a request.
public struct ActionSpec: Sendable, Hashable, Codable {
    /// `^[a-z][a-z0-9_]{0,63}$`: also the OpenAI tool name.
    public var id: String
    public var title: String
    /// Printable ASCII, at most 300 characters: it is shown to a model.
    public var description: String
    public var kind: ActionKind
    /// Absolute executable path first; fixed strings only.
    public var argv: [String]
    /// Optional check run first with the same rules (e.g. `nginx -t` before a reload); when it
    /// exits non-zero, `argv` does not run.
    public var preflightArgv: [String]?
    public var timeoutS: Int
    public var killGraceS: Int
    /// Actions sharing a lock key never run concurrently.
    public var lock: String
    public var limits: ActionLimits
    /// Services this action touches (e.g. `api-core`).
    public var targets: [String]
    /// Smaller is narrower; the escalation ladder walks remediations by ascending rank.
    public var rank: Int
    public var maxOutputBytes: Int

    public init(
        id: String,
        title: String,
        description: String,
        kind: ActionKind,
        argv: [String],
        preflightArgv: [String]? = nil,
        timeoutS: Int,
        killGraceS: Int,
        lock: String,
        limits: ActionLimits,
        targets: [String],
        rank: Int,
        maxOutputBytes: Int
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.kind = kind
        self.argv = argv
        self.preflightArgv = preflightArgv
        self.timeoutS = timeoutS
        self.killGraceS = killGraceS
        self.lock = lock
        self.limits = limits
        self.targets = targets
        self.rank = rank
        self.maxOutputBytes = maxOutputBytes
    }

    enum CodingKeys: String, CodingKey {
        case id, title, description, kind, argv
        case preflightArgv = "preflight_argv"
        case timeoutS = "timeout_s"
        case killGraceS = "kill_grace_s"
        case lock, limits, targets, rank
        case maxOutputBytes = "max_output_bytes"
    }
}
