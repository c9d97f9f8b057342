import Foundation
import Synchronization
import Testing

@testable import Monitor

/// The SQLite store syncs every commit (`synchronous = FULL` on the writer), so an acknowledged record survives
/// power loss, as `MonitorStore` says. On main the pragma was set in `prepareDatabase`, which GRDB's
/// `DatabasePool` overrides with NORMAL when it turns WAL on: no commit was synced (no fsync at all).
@Suite struct StoreDurabilityTests {
    @Test func theWriterSyncsEveryCommit() throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        #expect(try store.writerSynchronous() == 2)  // FULL
        // Also after the store was opened again (an existing file, migrations already done).
        let reopened = try MonitorStore(path: dir.dbPath)
        #expect(try reopened.writerSynchronous() == 2)
        withExtendedLifetime(store) {}
    }
}

/// Two processes (here: stores) opening a new SQLite file at the same moment both migrate it: GRDB's migrator
/// reads what is applied before each migration's own transaction, so the later one ran a migration the other had
/// just run ("table … already exists") and its process failed to start.
@Suite struct ConcurrentMigrationTests {
    @Test func storesOpeningANewFileAtOnceAllStart() throws {
        for _ in 0..<8 {
            let dir = try TempDir()
            // A new file already in WAL mode, nothing migrated: what races here is the migrations (turning a new
            // file to WAL at the same instant can also fail, "database is locked"; not covered here).
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [dir.dbPath, "PRAGMA journal_mode = WAL"]
            sqlite.standardOutput = FileHandle.nullDevice
            try sqlite.run()
            sqlite.waitUntilExit()
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    _ = try MonitorStore(path: dir.dbPath)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
        }
    }
}
