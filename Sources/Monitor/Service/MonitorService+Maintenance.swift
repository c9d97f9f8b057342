import Foundation
import Logging
import Probing
import Synchronization

/// The scheduling loop's store maintenance, run at the top of each loop pass while the store is reachable:
/// silences that expired end (announcing a state that changed meanwhile and handing a down one to remediation),
/// open maintenance windows silence what they cover, and paged incidents still open get their reminders.
extension MonitorService {
    func endExpiredSilences(now: Date) async {
        let expired = schedule.withLock { s in s.silences.filter { $0.value <= now }.map(\.key) }
        for name in expired { await endSilence(name, now: now, force: false) }
    }

    func endSilence(_ name: String, now: Date, force: Bool) async {
        do {
            let ended = try await store.endSilence(name, now: now, force: force, message: AlertFormatter.message(for:))
            schedule.withLock { s in
                s.silences.removeValue(forKey: name)
                s.maintenance.removeValue(forKey: name)
            }
            logger.info("silence ended", metadata: ["probe.property": "\(name)"])
            guard let ended else { return }
            if ended.outboxID != nil { outbox.signal.signal() }
            if ended.state.health == .down, let id = ended.state.openIncidentID, let result = ended.state.lastResult,
                let property = config.property(named: name)
            {
                enqueueResponse(
                    property: property,
                    incidentID: id,
                    transition: ended.transition ?? Transition(from: .healthy, to: .down),
                    result: result,
                    resumed: false
                )
            }
        } catch {
            logger.error("cannot end silence", metadata: ["probe.property": "\(name)", "error": "\(error)"])
        }
    }

    /// Silences each property an open maintenance window covers until the window closes (unless it is silenced
    /// that long already); the silence's end announces a state that changed meanwhile.
    func openMaintenanceWindows(now: Date) async {
        let config = self.config
        let windows = config.maintenance
        guard !windows.isEmpty else { return }
        for property in config.properties {
            var open: StatusReport.Maintenance?
            for window in windows where window.covers(property.name) {
                if let until = window.openUntil(at: now), until > (open?.until ?? .distantPast) {
                    open = StatusReport.Maintenance(window: window.name, until: until)
                }
            }
            guard let open, (schedule.withLock { $0.silences[property.name] } ?? .distantPast) < open.until else {
                continue
            }
            let meta: Logger.Metadata = [
                "probe.property": "\(property.name)", "maintenance.window": "\(open.window)",
                "maintenance.until": "\(open.until)",
            ]
            do {
                try await store.silence(property.name, until: open.until, now: now)
                schedule.withLock { s in
                    s.silences[property.name] = open.until
                    s.maintenance[property.name] = open
                }
                logger.notice("maintenance window open; alerts and remediation held", metadata: meta)
            } catch {
                logger.error(
                    "cannot open the maintenance window",
                    metadata: meta.merging(["error": "\(error)"]) { a, _ in a }
                )
            }
        }
    }

    /// Reminds the on-call human (without a mention) of every paged incident still unresolved
    /// `paging.reminder_minutes` after the page or the last reminder; nothing when that is 0.
    public func remindDue() async {
        let minutes = config.onCall.reminderMinutes
        guard minutes > 0 else { return }
        let at = now()
        do {
            let reminded = try await store.remindDue(now: at, every: TimeInterval(minutes * 60)) { incident in
                AlertFormatter.reminder(for: incident, at: at)
            }
            guard !reminded.isEmpty else { return }
            outbox.wake()
            for id in reminded {
                logger.notice("on-call reminder queued", metadata: ["incident.id": .stringConvertible(id)])
            }
        } catch {
            logger.error("cannot queue on-call reminders", metadata: ["error": "\(error)"])
        }
    }
}
