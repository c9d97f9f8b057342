/// A store failure, naming the SQLite file it happened on and what was being done: an operator reading
/// "cannot open the store /etc/zumik/zumik-monitor.sqlite: unable to open database file" knows which
/// path to fix (or to move with `ZUMIK_STORE_PATH`).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// The SQLite file.
    public var path: String
    /// What was being done: `open`, `migrate`, `read`, `write`.
    public var operation: String
    /// The underlying error, as SQLite or GRDB described it.
    public var problem: String

    public init(path: String, operation: String, problem: String) {
        self.path = path
        self.operation = operation
        self.problem = problem
    }

    public var description: String { "cannot \(operation) the store \(path): \(problem)" }

    /// Runs `body`, turning any error it throws into a `StoreError` naming `path` (a `StoreError` passes as is).
    static func naming<T>(_ path: String, _ operation: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: path, operation: operation, problem: "\(error)")
        }
    }
}
