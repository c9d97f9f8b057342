import Foundation
import Logging
import Probing
import Synchronization

/// The monitor while its store cannot be reached (`docs/multi-location.md`, "When the database is
/// unreachable"): probes go on, each result the store cannot take is kept (`UnrecordedResults`) and recorded,
/// oldest first, before the property's next one once the store answers; the loop does no other store work, and
/// remediation acts only after a fenced journal write, which cannot happen meanwhile.
extension MonitorService {
    /// Records the property's kept results, then `result`; keeps whatever the store could not take.
    func recordKeepingWhatTheStoreCannotTake(_ result: ProbeResult, property: PropertyConfig) async {
        var due = unrecorded.take(result)
        for index in due.indices {
            guard await recordOne(&due[index], property: property, replayed: index < due.count - 1) else {
                let dropped = unrecorded.putBack(Array(due[index...]), property: property.name)
                var meta = Self.metadata(result)
                meta["store.kept"] = .stringConvertible(due.count - index)
                if dropped > 0 { meta["store.dropped"] = .stringConvertible(dropped) }
                // Said once per property and outage (and when results are dropped); each further one at debug.
                if due.count == 1 || dropped > 0 {
                    logger.warning("store unreachable; probe results kept to record later", metadata: meta)
                } else {
                    logger.debug("store unreachable; probe result kept to record later", metadata: meta)
                }
                return
            }
        }
        if due.count > 1 {
            logger.notice(
                "probe results kept while the store was unreachable recorded",
                metadata: ["probe.property": "\(property.name)", "store.kept": .stringConvertible(due.count - 1)]
            )
            // A transition among the kept results did not start remediation: offer open incidents now.
            schedule.withLock { $0.nextTakeover = .distantPast }
            wake.signal()
        }
    }

    /// The status report while the store cannot be read: the configuration, each property's newest probe
    /// result (recorded or not), no confirmed state, and the store's report saying why.
    func unreachableStoreStatus() -> StatusReport {
        let newest = unrecorded.newest
        let at = now()
        return StatusReport(
            generatedAt: at,
            configGeneration: configGeneration,
            pager: pager.report,
            store: storeHealth.report,
            properties: config.properties.map { property in
                StatusReport.PropertyStatus(
                    name: property.name,
                    url: property.url,
                    state: nil,
                    alertOnly: property.alertOnly,
                    host: property.host,
                    silencedUntil: nil,
                    lastResult: newest[property.name],
                    openIncident: nil,
                    maintenance: nil
                )
            }
        )
    }
}
