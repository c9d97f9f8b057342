public import Logging

/// At start: the runs a previous agent began but never completed (it was killed, or the machine
/// stopped). Their surviving processes are found by their run marker and killed, and each run gets
/// a completion record with outcome `unknown`. Locks live in memory, so once the survivors are
/// gone the locks they held are free.
public enum AuditReconciler {
    @discardableResult
    public static func reconcile(auditLog: AuditLog, logger: Logger) -> [AuditRecord] {
        let open = auditLog.unfinishedRuns()
        guard !open.isEmpty else { return [] }
        let killed = RunMarker.killAll(markedWith: Set(open.map(\.auditID)))
        var completions: [AuditRecord] = []
        for intent in open {
            var record = intent
            record.time = AuditLog.timestamp()
            record.outcome = AuditRecord.Outcome.unknown
            record.status = 0
            record.message =
                "the agent stopped during this run; outcome unknown (\(killed) surviving process(es) of open runs killed at restart)"
            do {
                try auditLog.appendRun(record, keepIfFailed: true)
            } catch {
                logger.critical("audit log: cannot record an unfinished run", metadata: ["audit.error": "\(error)"])
            }
            logger.warning(
                "run left open by a previous agent",
                metadata: [
                    "audit.id": "\(intent.auditID)", "action.id": "\(intent.action)",
                    "run.survivors_killed": "\(killed)",
                ]
            )
            completions.append(record)
        }
        return completions
    }
}
