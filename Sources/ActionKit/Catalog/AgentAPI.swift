/// Wire types of the ops-agent's HTTP API (see `openapi/ops-agent.yaml`), shared by the agent
/// that serves them and the monitor that reads them. JSON keys are snake_case.
public enum AgentAPI {
    /// `GET /v1/actions`
    public struct Catalog: Sendable, Hashable, Codable {
        public var actions: [CatalogAction]
        public var refusedBundles: [RefusedBundle]

        public init(actions: [CatalogAction], refusedBundles: [RefusedBundle]) {
            self.actions = actions
            self.refusedBundles = refusedBundles
        }

        enum CodingKeys: String, CodingKey {
            case actions
            case refusedBundles = "refused_bundles"
        }
    }

    /// One action in the catalog: its signed ``ActionSpec`` and the bundle it came from. The
    /// spec's fields read through (`action.id`, `action.argv`); on the wire they are flat, beside
    /// `bundle`.
    @dynamicMemberLookup
    public struct CatalogAction: Sendable, Hashable, Codable {
        public var spec: ActionSpec
        public var bundle: BundleRef

        public init(spec: ActionSpec, bundle: BundleRef) {
            self.spec = spec
            self.bundle = bundle
        }

        public subscript<Value>(dynamicMember keyPath: WritableKeyPath<ActionSpec, Value>) -> Value {
            get { spec[keyPath: keyPath] }
            set { spec[keyPath: keyPath] = newValue }
        }

        enum CodingKeys: String, CodingKey {
            case bundle
        }

        public init(from decoder: any Decoder) throws {
            spec = try ActionSpec(from: decoder)
            bundle = try decoder.container(keyedBy: CodingKeys.self).decode(BundleRef.self, forKey: .bundle)
        }

        public func encode(to encoder: any Encoder) throws {
            try spec.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(bundle, forKey: .bundle)
        }
    }

    public struct BundleRef: Sendable, Hashable, Codable {
        public var id: String
        public var version: String
        public var serial: Int
        /// SHA-256 of the loaded plugin library.
        public var sha256: String
        public var keyID: String

        public init(id: String, version: String, serial: Int, sha256: String, keyID: String) {
            self.id = id
            self.version = version
            self.serial = serial
            self.sha256 = sha256
            self.keyID = keyID
        }

        enum CodingKeys: String, CodingKey {
            case id, version, serial, sha256
            case keyID = "key_id"
        }
    }

    public struct RefusedBundle: Sendable, Hashable, Codable {
        /// The bundle directory's name (the id may be unknown when the manifest is unreadable).
        public var directory: String
        /// The load step that failed, e.g. `safe-path`, `signature`, `digest`, `handshake`.
        public var step: String
        public var reason: String

        public init(directory: String, step: String, reason: String) {
            self.directory = directory
            self.step = step
            self.reason = reason
        }
    }

    /// Body of `POST /v1/actions/{id}/run` (optional).
    public struct RunRequest: Sendable, Hashable, Codable {
        /// At most ``maxReasonScalars`` Unicode scalars; logged and audited, never executed.
        public var reason: String?
        /// The reason's limit, in Unicode scalars: the agent refuses more, the monitor cuts to it.
        public static let maxReasonScalars = 500
        /// At most 64 characters.
        public var incident: String?

        public init(reason: String? = nil, incident: String? = nil) {
            self.reason = reason
            self.incident = incident
        }
    }

    /// Response of `POST /v1/actions/{id}/run`.
    public struct RunResult: Sendable, Hashable, Codable {
        public var action: String
        public var auditID: String
        /// `succeeded`, `failed` (non-zero exit), `timed_out`, `killed`, `spawn_failed`, `preflight_failed`.
        public var outcome: String
        public var exitCode: Int?
        public var signal: Int?
        public var timedOut: Bool
        public var durationMs: Int
        public var stdoutTail: String
        public var stderrTail: String
        public var stdoutBytes: Int
        public var stderrBytes: Int
        public var truncated: Bool
        /// The bundle's reading of the output (JSON object), if it had one.
        public var interpretation: JSONValue?

        public init(
            action: String,
            auditID: String,
            outcome: String,
            exitCode: Int?,
            signal: Int?,
            timedOut: Bool,
            durationMs: Int,
            stdoutTail: String,
            stderrTail: String,
            stdoutBytes: Int,
            stderrBytes: Int,
            truncated: Bool,
            interpretation: JSONValue?
        ) {
            self.action = action
            self.auditID = auditID
            self.outcome = outcome
            self.exitCode = exitCode
            self.signal = signal
            self.timedOut = timedOut
            self.durationMs = durationMs
            self.stdoutTail = stdoutTail
            self.stderrTail = stderrTail
            self.stdoutBytes = stdoutBytes
            self.stderrBytes = stderrBytes
            self.truncated = truncated
            self.interpretation = interpretation
        }

        enum CodingKeys: String, CodingKey {
            case action
            case auditID = "audit_id"
            case outcome
            case exitCode = "exit_code"
            case signal
            case timedOut = "timed_out"
            case durationMs = "duration_ms"
            case stdoutTail = "stdout_tail"
            case stderrTail = "stderr_tail"
            case stdoutBytes = "stdout_bytes"
            case stderrBytes = "stderr_bytes"
            case truncated
            case interpretation
        }
    }

    /// Every error body: an RFC 9457 problem document (`type`, `title`, `status`, `detail`; served as
    /// `application/problem+json`) that keeps the original `{"error":{"message":…}}`, plus
    /// `"outcome":"not_run"` when the audit log could not record a run's intent (the action was not
    /// started). The problem members are optional when decoding, so a client reads older agents too.
    public struct ErrorBody: Sendable, Hashable, Codable {
        public static let notRun = "not_run"

        /// `ProblemKind.type`.
        public var type: String?
        /// `ProblemKind.title`.
        public var title: String?
        /// The HTTP status code, repeated.
        public var status: Int?
        /// What happened, for this request (the same text as `error.message`).
        public var detail: String?

        public struct Detail: Sendable, Hashable, Codable {
            public var message: String
            public var outcome: String?
            public init(message: String, outcome: String? = nil) {
                self.message = message
                self.outcome = outcome
            }
        }
        public var error: Detail
        public init(message: String, outcome: String? = nil) {
            self.error = Detail(message: message, outcome: outcome)
        }

        /// A problem document of `kind` for a response with `status`.
        public init(_ kind: ProblemKind, status: Int, message: String, outcome: String? = nil) {
            self.type = kind.type
            self.title = kind.title
            self.status = status
            self.detail = message
            self.error = Detail(message: message, outcome: outcome)
        }

        /// The kind named by `type`, when it is one of ours.
        public var kind: ProblemKind? { type.flatMap(ProblemKind.init(type:)) }
    }
}
