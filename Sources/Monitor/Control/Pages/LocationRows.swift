import Foundation
import Probing

/// What the pages show per location when more than one location probes a property.
enum LocationRows {
    /// The operator view: each location's latency per phase (p50 / p95) over the chart's window.
    static func latency(_ report: LatencyReport?) -> String {
        guard let locations = report?.locations, locations.count > 1 else { return "" }
        let phases = LatencyPhase.allCases
        var out = """
            <div class="scroll"><table data-latency-locations><caption class="muted">Latency by location, last 24 hours (ms, p50 / p95)</caption>
            <thead><tr><th scope="col">Location</th><th scope="col" class="num">Probes</th>
            """
        out += phases.map {
            "<th scope=\"col\" class=\"num\">\($0.rawValue.replacingOccurrences(of: "_", with: " "))</th>"
        }.joined()
        out += "</tr></thead><tbody>"
        for location in locations {
            out +=
                "<tr data-location=\"\(HTML.escape(location.location))\"><th scope=\"row\">\(HTML.escape(name(location.location)))</th><td class=\"num\">\(location.probes)</td>"
            for phase in phases {
                let cell =
                    location.phases[phase.rawValue].map { String(format: "%.1f / %.1f", $0.p50, $0.p95) } ?? "–"
                out += "<td class=\"num\">\(cell)</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table></div>\n"
    }

    /// The public page's state cell: "Down in 1 of 3 locations" (or "Operational in all 3 locations"), then
    /// each location's state as symbol and word. Nothing when one location reports.
    static func status(_ p: PropertySummary) -> String {
        guard let locations = p.locations, locations.count > 1 else { return "" }
        let failing = locations.filter { $0.state != .healthy }
        let worst: Health = failing.contains { $0.state == .down } ? .down : failing.isEmpty ? .healthy : .degraded
        let word = HTML.label(worst).word
        let line =
            failing.isEmpty
            ? "\(word) in all \(locations.count) locations"
            : "\(word) in \(failing.count) of \(locations.count) locations"
        var out = "<br><span class=\"muted\" data-locations-summary>\(line)</span><ul class=\"locations\">"
        for view in locations {
            let location = HTML.escape(name(view.location))
            out +=
                "<li data-location=\"\(HTML.escape(view.location))\" data-state=\"\(view.state.rawValue)\">\(location): \(HTML.state(view.state))</li>"
        }
        return out + "</ul>"
    }

    static func name(_ location: String) -> String { location.isEmpty ? "(before locations)" : location }
}
