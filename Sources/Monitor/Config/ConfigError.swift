/// A configuration error naming the file (or `environment`), the key path and the problem:
/// `monitor.yaml: properties[2].url: not an http(s) URL`. It never contains a secret's value.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file name, or `environment` for a bad environment variable.
    public var file: String
    /// Dotted key path with list indices, e.g. `properties[2].url`.
    public var path: String
    public var problem: String

    public init(file: String, path: String, problem: String) {
        self.file = file
        self.path = path
        self.problem = problem
    }

    public var description: String {
        path.isEmpty ? "\(file): \(problem)" : "\(file): \(path): \(problem)"
    }
}

/// Every error found in one file, in document order (validation does not stop at the first).
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
