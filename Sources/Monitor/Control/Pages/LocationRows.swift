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

    static func name(_ location: String) -> String { location.isEmpty ? "(before locations)" : location }
}
