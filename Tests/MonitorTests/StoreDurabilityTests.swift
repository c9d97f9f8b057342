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
