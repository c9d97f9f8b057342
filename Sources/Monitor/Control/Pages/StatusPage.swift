import Foundation
import Probing

/// The public status page: current state and uptime (a table), the 90-day bar per property, recent incidents.
/// Everything is in the HTML; no script.
enum StatusPage {
    static func render(_ summary: StatusSummary) -> String {
        var body = """
            <section aria-labelledby="current"><h2 id="current">Current state</h2>
            <div class="scroll"><table id="uptime">
            <caption class="muted">Uptime is the share of observed time not down (7 and 30 days on wider screens).</caption>
            <thead><tr><th scope="col">Property</th><th scope="col">State</th><th scope="col" class="num">24 h</th><th scope="col" class="num wide">7 days</th><th scope="col" class="num wide">30 days</th><th scope="col" class="num">90 days</th></tr></thead>
            <tbody>
            """
        for p in summary.properties {
            let name = HTML.escape(p.name)
            body +=
                "<tr data-property=\"\(name)\" data-state=\"\(p.state?.rawValue ?? "none")\"><th scope=\"row\">\(name)</th><td>\(HTML.state(p.state))"
            if let until = p.silencedUntil {
                body += "<br><span class=\"muted\">Maintenance until \(HTML.time(until))</span>"
            }
            body += LocationRows.status(p)
            body += "</td>"
            for (key, value) in [
                ("24h", p.uptime.last24h), ("7d", p.uptime.last7d), ("30d", p.uptime.last30d),
                ("90d", p.uptime.last90d),
            ] {
                let wide = key == "7d" || key == "30d" ? " wide" : ""
                body += "<td class=\"num\(wide)\" data-uptime=\"\(key)\">\(HTML.percent(value))</td>"
            }
            body += "</tr>\n"
        }
        body += "</tbody></table></div></section>\n"
        body += """
            <section aria-labelledby="days"><h2 id="days">The last 90 days</h2>
            <p class="legend"><span>\(HTML.state(.healthy))</span><span>\(HTML.state(.degraded)) (striped)</span><span>\(HTML.state(.down)) (dark top edge)</span><span>\(HTML.state(nil))</span></p>

            """
        for p in summary.properties { body += bar(p) }
        body += "</section>\n"
        body += incidents(summary.incidents, now: summary.generatedAt)
        return HTML.document(title: summary.title, heading: summary.title, updated: summary.generatedAt, body: body)
    }

    static func bar(_ p: PropertySummary) -> String {
        let name = HTML.escape(p.name)
        var out =
            "<h3 id=\"bar-\(name)\">\(name)</h3>\n<ol class=\"bar\" aria-labelledby=\"bar-\(name)\" data-property=\"\(name)\">"
        for cell in p.days {
            let (_, word, _) = HTML.label(cell.worst)
            var label = "\(cell.date): \(word)"
            if cell.downtimeMinutes > 0 { label += ", \(cell.downtimeMinutes) min down" }
            out +=
                "<li class=\"c-\(cell.worst?.rawValue ?? "none")\" data-date=\"\(cell.date)\" data-worst=\"\(cell.worst?.rawValue ?? "none")\" data-downtime-minutes=\"\(cell.downtimeMinutes)\" aria-label=\"\(label)\" title=\"\(label)\"></li>"
        }
        return out + "</ol>\n"
    }

    static func incidents(_ incidents: [IncidentSummary], now: Date) -> String {
        var out = "<section aria-labelledby=\"incidents\"><h2 id=\"incidents\">Recent incidents</h2>\n"
        guard !incidents.isEmpty else { return out + "<p>No incidents.</p></section>\n" }
        out += """
            <div class="scroll"><table id="incident-list"><thead><tr><th scope="col">Property</th><th scope="col">State</th><th scope="col">Started</th><th scope="col" class="num">Duration</th><th scope="col" class="wide">Human paged</th></tr></thead><tbody>

            """
        for i in incidents {
            let duration = HTML.duration(i.durationSeconds) + (i.closedAt == nil ? " (ongoing)" : "")
            out +=
                "<tr data-incident=\"\(i.id.rawValue)\" data-worst=\"\(i.worst.rawValue)\"><th scope=\"row\">\(HTML.escape(i.property))</th><td>\(incidentState(i))</td><td>\(HTML.time(i.openedAt))</td><td class=\"num\" data-duration-seconds=\"\(Int(i.durationSeconds.rounded()))\">\(duration)</td><td class=\"wide\">\(i.paged ? "yes" : "no")</td></tr>\n"
        }
        return out + "</tbody></table></div></section>\n"
    }

    /// An open incident's state now; a closed one's worst state, then "Resolved" (e.g. "✖ Down, ✔ Resolved"),
    /// so the list still says how bad it was.
    static func incidentState(_ i: IncidentSummary) -> String {
        guard i.closedAt != nil else { return HTML.state(i.health) }
        let resolved = "<span class=\"state s-healthy\"><span aria-hidden=\"true\">✔</span> Resolved</span>"
        return i.worst == .healthy ? resolved : HTML.state(i.worst) + ", " + resolved
    }
}
