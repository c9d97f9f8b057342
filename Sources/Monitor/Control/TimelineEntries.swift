import ActionKit
import Foundation
import Probing

/// Incident records and outbox rows as timeline entries: what each kind of record says in one line.
enum TimelineEntries {
    static func entry(_ event: IncidentEvent, first: Bool) -> TimelineEntry {
        func text(_ key: String) -> String? {
            if case .object(let object) = event.payload, case .string(let value)? = object[key] { return value }
            return nil
        }
        var entry = TimelineEntry(
            at: event.at,
            kind: .note,
            summary: event.kind,
            path: text("path"),
            tool: text("tool"),
            reason: text("reason"),
            result: text("result"),
            auditID: text("audit_id"),
            reprobe: text("reprobe")
        )
        if event.kind == "transition" {
            let from = text("from") ?? "?"
            let to = text("to") ?? "?"
            entry.kind = to == "healthy" ? .recovery : first ? .detection : .transition
            var reasons: [String] = []
            if case .object(let object) = event.payload, case .array(let list)? = object["reasons"] {
                reasons = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            entry.summary =
                entry.kind == .recovery
                ? "Recovered: \(from) → healthy"
                : "\(entry.kind == .detection ? "Detected" : "Changed"): \(from) → \(to)"
            if !reasons.isEmpty { entry.reason = reasons.joined(separator: "; ") }
            return entry
        }
        let kind =
            event.kind.hasPrefix("remediation.") ? String(event.kind.dropFirst("remediation.".count)) : event.kind
        let tool = entry.tool ?? "?"
        switch kind {
        case "started":
            entry.kind = .started
            entry.summary = entry.path.map { "Automation started (\($0) path)" } ?? "Automation started"
        case "action":
            let diagnostic = text("action_kind") == "diagnostic"
            entry.kind = diagnostic ? .diagnostic : .action
            entry.summary = diagnostic ? "Diagnostic \(tool)" : "Remediation \(tool)"
        case "actionResult":
            entry.kind = .result
            entry.summary = "Result of \(tool)"
        case "violation":
            entry.kind = .violation
            entry.summary = "Refused call \(tool)"
        case "reprobe":
            entry.kind = .reprobe
            entry.summary = "Re-probe: \(entry.reprobe ?? entry.result ?? "?")"
        case "modelFailed":
            entry.kind = .modelFailed
            entry.summary = "Model failed; the ladder takes over"
        case "healed":
            entry.kind = .healed
            entry.summary = "Healed by automation"
        case "paged":
            entry.kind = .page
            entry.summary = "Paged the on-call human"
        default:
            entry.kind = .note
            entry.summary = "Note: \(entry.result ?? entry.reason ?? kind)"
        }
        return entry
    }

    static func alert(_ row: OutboxRow) -> TimelineEntry {
        let state =
            row.deliveredAt != nil ? "delivered" : row.failedAt != nil ? "refused by Discord" : "pending"
        return TimelineEntry(
            at: row.createdAt,
            kind: .alert,
            summary: "Alert (\(row.kind)) \(state)",
            result: row.lastError
        )
    }
}
