import Foundation

/// A PostgreSQL connection string: `postgres://user:password@host:port/database?sslmode=…` (also
/// `postgresql://`). `sslmode` is `disable`, `prefer` (the default) or `require`; `host=/dir` in the query
/// connects through the Unix socket in that directory instead. The password is kept as a `Secret`, and
/// neither the description nor any error quotes it.
public struct PostgresConnectionString: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var user: String
    public var password: Secret?
    public var database: String
    public var sslMode: SSLMode
    public var socketDirectory: String?

    /// Parses `text`, read from the environment variable `variable` (named in errors).
    public init(_ text: String, variable: String) throws(ConfigError) {
        let shown = ConfigReader.withoutCredentials(text)
        func failure(_ problem: String) -> ConfigError {
            ConfigError(file: "environment", path: variable, problem: "\(problem) in \"\(shown)\"")
        }
        guard let parts = URLComponents(string: text), let scheme = parts.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw failure("not a postgres:// connection string")
        }
        guard let user = parts.user, !user.isEmpty else { throw failure("no user") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw failure("no database name (the path)") }
        self.user = user
        self.database = database
        password = parts.password.map { Secret($0.removingPercentEncoding ?? $0) }
        host = parts.host ?? ""
        port = parts.port ?? 5432
        sslMode = .prefer
        for item in parts.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", let value?):
                guard let mode = SSLMode(rawValue: value) else {
                    throw failure("sslmode must be disable, prefer or require, not \"\(value)\"")
                }
                sslMode = mode
            case ("host", let value?) where value.hasPrefix("/"):
                socketDirectory = value
            default:
                throw failure("unknown parameter \"\(item.name)\"")
            }
        }
        if host.isEmpty && socketDirectory == nil { throw failure("no host") }
    }

    /// The string with the password hidden.
    public var description: String {
        let target = socketDirectory.map { "\($0) (socket)" } ?? "\(host):\(port)"
        return "postgres://\(user)@\(target)/\(database)"
    }
}
