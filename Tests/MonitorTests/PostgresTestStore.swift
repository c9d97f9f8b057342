import Foundation
import Logging
import Monitor
import ZumikTestSupport

/// A `PostgresStore` on a fresh database of the test process's cluster, its pool running until this is released.
final class PostgresTestStore: @unchecked Sendable {
    // @unchecked: immutable after init.
    let store: PostgresStore
    let database: String
    let url: String
    private let pool: Task<Void, Never>

    /// Why PostgreSQL tests cannot run here, printed once (nil when they can).
    static let unavailableReason: String? = {
        guard let reason = PostgresServer.unavailableReason else { return nil }
        print("skipping the PostgreSQL cases: \(reason)")
        return reason
    }()

    /// `schema_migrations` after migrating, as `psql -At` prints it: version|name, in order.
    static let schemaVersions = [
        "1|monitor-v1", "2|monitor-v3-incident-messages", "3|monitor-v3-correlation", "4|monitor-v3-reminders",
        "5|monitor-v3-certificate-warnings", "6|monitor-v3-history", "7|monitor-v3-locations", "8|monitor-v3-leases",
        "9|monitor-v3-location-silence", "10|monitor-v3-history-location",
    ]

    init(holder: String = "test", outboxLease: TimeInterval = 60) throws {
        let server = try PostgresServer.shared()
        database = try server.makeDatabase()
        url = server.url(database: database)
        store = PostgresStore(
            try PostgresConnectionString(url, variable: "ZUMIK_DATABASE_URL"),
            holder: holder,
            outboxLease: outboxLease,
            logger: quiet
        )
        pool = Task { [store] in await store.run() }
    }

    /// A second store (another monitor) on the same database.
    func sibling(holder: String) throws -> PostgresSibling {
        try PostgresSibling(url: url, holder: holder)
    }

    deinit { pool.cancel() }
}

/// Another monitor's store on an existing database.
final class PostgresSibling: @unchecked Sendable {
    let store: PostgresStore
    private let pool: Task<Void, Never>

    init(url: String, holder: String) throws {
        store = PostgresStore(
            try PostgresConnectionString(url, variable: "ZUMIK_DATABASE_URL"),
            holder: holder,
            logger: quiet
        )
        pool = Task { [store] in await store.run() }
    }

    deinit { pool.cancel() }
}

/// The pool's background logger in tests: errors only (not the warning of a lease asked before `run()` began).
private let quiet: Logger = {
    var logger = Logger(label: "postgres-test")
    logger.logLevel = .error
    return logger
}()
