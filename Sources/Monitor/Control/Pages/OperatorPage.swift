import Foundation
import Probing

/// The operator's view: every property's state, uptime, certificate expiry, silences, the hourly latency chart
/// (p50 and p95, by phase) and the timeline of each recent incident: detection, alerts, every diagnostic and
/// action with its reason, result and audit id, the re-probes, the path, the page and the recovery.
enum OperatorPage {
    static func render(
        summary: StatusSummary,
        latency: [String: LatencyReport],
        timelines: [IncidentTimeline],
        silences: SilenceList
    ) -> String {
        var body = "<section aria-labelledby=\"props\"><h2 id=\"props\">Properties</h2>\n"
        for p in summary.properties {
            let name = HTML.escape(p.name)
            body +=
                "<article aria-labelledby=\"p-\(name)\" data-property=\"\(name)\"><h3 id=\"p-\(name)\">\(name) — \(HTML.state(p.state))</h3>\n<dl class=\"facts\">"
            body +=
                "<dt>Uptime 24 h / 7 d / 30 d / 90 d</dt><dd>\(HTML.percent(p.uptime.last24h)) / \(HTML.percent(p.uptime.last7d)) / \(HTML.percent(p.uptime.last30d)) / \(HTML.percent(p.uptime.last90d))</dd>"
            body +=
                "<dt>Certificate expires</dt><dd data-cert-expiry>\(p.certificateExpiry.map { HTML.time($0) } ?? "not recorded (plain HTTP or no answer)")</dd>"
            body +=
                "<dt>Maintenance</dt><dd>\(p.silencedUntil.map { "silenced until " + HTML.time($0) } ?? "none")</dd></dl>\n"
            body += chart(latency[p.name])
            body += LocationRows.latency(latency[p.name])
            body += "</article>\n"
        }
        body += "</section>\n"
        body += "<section aria-labelledby=\"silences\"><h2 id=\"silences\">Silences and maintenance</h2>\n"
        if silences.silences.isEmpty {
            body += "<p>No property is silenced.</p>"
        } else {
            body +=
                "<ul>"
                + silences.silences.map { "<li>\(HTML.escape($0.property)) until \(HTML.time($0.until))</li>" }.joined()
                + "</ul>"
        }
        body += "</section>\n"
        body += StatusPage.incidents(summary.incidents, now: summary.generatedAt)
        body += "<section aria-labelledby=\"timelines\"><h2 id=\"timelines\">Incident timelines</h2>\n"
        if timelines.isEmpty { body += "<p>No incidents.</p>" }
        for t in timelines { body += timeline(t) }
        body += "</section>\n"
        return HTML.document(
            title: summary.title + " — operator",
            heading: summary.title + " — operator view",
            updated: summary.generatedAt,
            body: body
        )
    }

    static func timeline(_ t: IncidentTimeline) -> String {
        let i = t.incident
        var out = """
            <article aria-labelledby="i-\(i.id.rawValue)" data-incident="\(i.id.rawValue)"><h3 id="i-\(i.id.rawValue)">Incident \(i.id.rawValue): \(HTML.escape(i.property)), \(StatusPage.incidentState(i)), \(HTML.duration(i.durationSeconds))\(i.closedAt == nil ? " (ongoing)" : "")</h3>
            <ol class="timeline">

            """
        for e in t.entries {
            out +=
                "<li data-kind=\"\(e.kind.rawValue)\"><span class=\"muted\">\(HTML.time(e.at, seconds: true))</span> <span class=\"kind\">\(HTML.escape(e.summary))</span>"
            var facts: [(String, String)] = []
            if let v = e.path { facts.append(("path", v)) }
            if let v = e.tool { facts.append(("action", v)) }
            if let v = e.reason { facts.append(("reason", v)) }
            if let v = e.result { facts.append(("result", v)) }
            if let v = e.auditID { facts.append(("audit id", v)) }
            if let v = e.reprobe { facts.append(("re-probe", v)) }
            if !facts.isEmpty {
                out +=
                    "<dl class=\"facts\">"
                    + facts.map { "<dt>\($0.0)</dt><dd data-fact=\"\($0.0)\">\(HTML.escape($0.1))</dd>" }.joined()
                    + "</dl>"
            }
            out += "</li>\n"
        }
        return out + "</ol></article>\n"
    }

    /// Total latency p50 (solid) and p95 (dashed) by hour as an inline SVG, and every phase in a table below it.
    static func chart(_ report: LatencyReport?) -> String {
        guard let report, !report.hours.isEmpty else { return "<p>No latency recorded in the last 24 hours.</p>" }
        let name = HTML.escape(report.property)
        let totals = report.hours.map { ($0.phases["total"]?.p50 ?? 0, $0.phases["total"]?.p95 ?? 0) }
        let top = max(totals.map(\.1).max() ?? 1, 1)
        let width = 480.0
        let height = 120.0
        func points(_ value: (Double, Double) -> Double) -> String {
            totals.enumerated().map { i, t in
                let x = totals.count == 1 ? width / 2 : Double(i) / Double(totals.count - 1) * width
                return String(format: "%.1f,%.1f", x, height - value(t.0, t.1) / top * (height - 10))
            }.joined(separator: " ")
        }
        var out = """
            <figure><svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(name): total latency by hour, p50 solid and p95 dashed, up to \(Int(top.rounded())) ms">
            <polyline class="p50" fill="none" stroke-width="2" points="\(points { p50, _ in p50 })"/>
            <polyline class="p95" fill="none" stroke-width="2" points="\(points { _, p95 in p95 })"/>
            </svg><figcaption class="muted">Total latency, last 24 hours: p50 solid, p95 dashed (scale 0–\(Int(top.rounded())) ms).</figcaption></figure>
            <details><summary>Latency by hour and phase (ms, p50 / p95)</summary><div class="scroll"><table>
            <thead><tr><th scope="col">Hour (UTC)</th>
            """
        let phases = LatencyPhase.allCases
        out += phases.map {
            "<th scope=\"col\" class=\"num\">\($0.rawValue.replacingOccurrences(of: "_", with: " "))</th>"
        }.joined()
        out += "</tr></thead><tbody>"
        for hour in report.hours {
            out += "<tr><th scope=\"row\">\(HTML.time(hour.start))</th>"
            for phase in phases {
                let cell = hour.phases[phase.rawValue].map { String(format: "%.1f / %.1f", $0.p50, $0.p95) } ?? "–"
                out += "<td class=\"num\">\(cell)</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table></div></details>\n"
    }
}
