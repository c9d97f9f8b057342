import Foundation
public import Logging
public import ServiceLifecycle

/// The configured store opened: SQLite (`MonitorStore`) or PostgreSQL (`PostgresStore`, whose connection
/// pool is a service to run beside the monitor's).
public struct OpenedStore: Sendable {
    public let storage: any MonitorStorage
    /// The pool to run (PostgreSQL); nil for SQLite.
    public let service: (any Service)?

    /// Opens the store `config` names; `holder` names this process in outbox claims. `health` is told whether
    /// each PostgreSQL call reached the database.
    public init(_ config: MonitorConfig, logger: Logger, health: StoreHealth? = nil) throws {
        switch config.store.backend {
        case .sqlite:
            storage = try MonitorStore(path: config.storePath)
            service = nil
        case .postgres(let connectionString):
            let store = PostgresStore(
                connectionString,
                holder: "\(config.store.location)/\(UUID().uuidString.prefix(8).lowercased())",
                health: health,
                connectionWait: config.storeOutage.connectionWait,
                logger: logger
            )
            storage = store
            service = store
        }
    }

    /// Runs `body` with the store, the pool running meanwhile (for one-shot commands).
    public func use<T: Sendable>(_ body: @escaping @Sendable (any MonitorStorage) async throws -> T) async throws -> T {
        guard let service else { return try await body(storage) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(storage)
        }
    }
}
