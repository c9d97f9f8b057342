import Foundation
import Yams

/// Where the monitor keeps its state, and which location this instance probes from.
///
/// - `store`: `sqlite` (the default: one machine, the file at `store_path`) or `postgres` (any number of
///   monitors sharing one database; the connection string is read from the environment variable
///   `ZUMIK_DATABASE_URL`, never from the file, and never logged).
/// - `remediation_lease`: how long an instance's claim on an incident's remediation lasts without a journal
///   write (default 2m); a dead instance's incident is taken over by another after it.
/// - `location`: this instance's location name (`^[a-z0-9][a-z0-9._-]{0,63}$`); the environment variable
///   `ZUMIK_LOCATION` overrides it; default: the host name.
public struct StoreSettings: Sendable {
    public enum Backend: Sendable {
        case sqlite
        case postgres(PostgresConnectionString)
    }

    /// The environment variable holding the PostgreSQL connection string.
    public static let databaseURLVariable = "ZUMIK_DATABASE_URL"
    public static let locationVariable = "ZUMIK_LOCATION"

    public var backend: Backend
    public var location: String
    public var remediationLease: Duration = .seconds(120)

    public init(backend: Backend = .sqlite, location: String = StoreSettings.defaultLocation) {
        self.backend = backend
        self.location = location
    }

    /// Same backend (PostgreSQL: host, port, user, database, as shown), location and remediation lease: what a
    /// reload cannot change in a running instance (its store is open, its location holds leases and heartbeats
    /// under its name).
    func isSameStore(as other: StoreSettings) -> Bool {
        guard location == other.location, remediationLease == other.remediationLease else { return false }
        switch (backend, other.backend) {
        case (.sqlite, .sqlite): return true
        case (.postgres(let a), .postgres(let b)): return "\(a)" == "\(b)"
        default: return false
        }
    }

    /// The host name, lowercased and cut to a valid location name (`local` when it has none).
    public static var defaultLocation: String {
        let cleaned = String(
            ProcessInfo.processInfo.hostName.lowercased().unicodeScalars.map {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
                    ? Character($0) : "-"
            }.prefix(64)
        )
        return isValidLocation(cleaned) ? cleaned : "local"
    }

    static func isValidLocation(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 64 else { return false }
        let lowerDigit = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        return lowerDigit(first) && s.unicodeScalars.allSatisfy { lowerDigit($0) || "._-".unicodeScalars.contains($0) }
    }
}

extension ConfigReader {
    /// The top-level keys this file reads.
    static let storeKeys: Set<String> = ["store", "location", "remediation_lease"]

    /// `store`, `location` and their environment variables.
    mutating func readStore(_ top: [String: Node], environment: [String: String]) -> StoreSettings {
        var settings = StoreSettings()
        let envLocation = environment[StoreSettings.locationVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let location = envLocation ?? string(top["location"], at: "location") {
            if StoreSettings.isValidLocation(location) {
                settings.location = location
            } else if envLocation != nil {
                errors.append(
                    ConfigError(
                        file: "environment",
                        path: StoreSettings.locationVariable,
                        problem: "not a location name (a-z, 0-9, '.', '_', '-'; at most 64): \"\(location)\""
                    )
                )
            } else {
                fail("location", "not a location name (a-z, 0-9, '.', '_', '-'; at most 64): \"\(location)\"")
            }
        }
        if let lease = duration(top["remediation_lease"], at: "remediation_lease") { settings.remediationLease = lease }
        switch string(top["store"], at: "store") {
        case nil, "sqlite":
            break
        case "postgres":
            let variable = StoreSettings.databaseURLVariable
            guard let url = environment[variable], !url.isEmpty else {
                fail("store", "postgres needs the connection string in the environment variable \(variable)")
                return settings
            }
            do {
                settings.backend = .postgres(try PostgresConnectionString(url, variable: variable))
            } catch {
                errors.append(error)
            }
        case let other?:
            fail("store", "must be sqlite or postgres, not \"\(other)\"")
        }
        return settings
    }
}

extension MonitorConfig {
    /// `sqlite` or `postgres`.
    public var backendName: String {
        switch store.backend {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// The store for logs and status: the SQLite path, or the PostgreSQL target without its password.
    public var storeSummary: String {
        switch store.backend {
        case .sqlite: "sqlite \(storePath)"
        case .postgres(let connectionString): connectionString.description
        }
    }
}
