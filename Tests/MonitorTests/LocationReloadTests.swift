import Foundation
import Monitor
import Probing
import Testing
import ZumikTestSupport

/// A reload keeps the running store, location and remediation lease: the instance's leases and heartbeats are
/// held under its location's name, and its store is open; a changed value is named for the next restart.
@Suite struct LocationReloadTests {
    @Test func aReloadKeepsTheLocationAndLeaseAndNamesThemForARestart() throws {
        let dir = try TempDir()
        let store = try MonitorStore(path: dir.dbPath)
        var old = MonitorConfig(
            interval: .seconds(60),
            storePath: dir.dbPath,
            properties: [PropertyConfig(name: "a", url: "http://127.0.0.1:1/a")]
        )
        old.store.location = "fra-1"
        let monitor = MonitorService(
            config: old,
            store: store,
            transport: CurlEngine(maxInFlight: 1),
            outbox: AlertOutbox(store: store, signal: WakeSignal()),
            logger: quietLogger
        )
        var same = old
        same.interval = .seconds(30)
        #expect(monitor.reload(same).needsRestart.isEmpty)

        var moved = old
        moved.store.location = "ams-1"
        moved.store.remediationLease = .seconds(30)
        let outcome = monitor.reload(moved)
        #expect(outcome.needsRestart == ["store/location/remediation_lease"])
        #expect(monitor.config.store.location == "fra-1")
        #expect(monitor.config.store.remediationLease == .seconds(120))
    }
}
