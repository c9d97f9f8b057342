import ArgumentParser
import Foundation
import Logging
import Monitor

/// A logger that drops everything (one-shot commands print their own results).
let quietLogger = Logger(label: "zumik-monitor", factory: { _ in SwiftLogNoOpLogHandler() })

extension ZumikMonitorCommand {
    /// `zumik-monitor migrate`: brings the configured store's schema up to date and exits. Safe to run while
    /// monitors start: PostgreSQL migrations take an advisory lock, so they run once.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the store's pending schema migrations (SQLite or PostgreSQL) and exit."
        )

        @Option(help: "Path to the YAML configuration.")
        var config: String

        func run() async throws {
            let config = try loadConfig(config)
            let opened: OpenedStore
            do {
                opened = try OpenedStore(config, logger: quietLogger)
            } catch {
                FileHandle.standardError.write(Data("zumik-monitor migrate: \(error)\n".utf8))
                throw ExitCode(1)
            }
            switch config.store.backend {
            case .sqlite:
                // Opening the SQLite store migrates it (GRDB's migrator, in one transaction).
                print("sqlite \(config.storePath): schema up to date")
            case .postgres(let connectionString):
                do {
                    let applied = try await opened.use { storage in
                        try await (storage as? PostgresStore)?.migrate() ?? []
                    }
                    let what =
                        applied.isEmpty
                        ? "nothing to apply" : "applied \(applied.map(String.init).joined(separator: ", "))"
                    print("postgres \(connectionString): \(what); schema up to date")
                } catch {
                    FileHandle.standardError.write(Data("zumik-monitor migrate: \(connectionString): \(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
        }
    }
}
