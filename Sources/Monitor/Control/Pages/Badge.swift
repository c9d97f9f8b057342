import Foundation
import Probing

/// Shields-style SVG badges: `state` (operational / degraded / down) and `uptime` (30 days).
enum Badge {
    enum Kind: String {
        case state = "state.svg"
        case uptime = "uptime.svg"
    }

    static func render(_ kind: Kind, _ p: PropertySummary) -> String {
        let value: String
        let color: String
        switch kind {
        case .state:
            let (symbol, word, _) = HTML.label(p.state)
            value = "\(symbol) \(word.lowercased())"
            color =
                p.state == .healthy
                ? "#1a7f37" : p.state == .degraded ? "#9a6700" : p.state == .down ? "#cf222e" : "#6e7681"
        case .uptime:
            value = p.uptime.last30d.map { String(format: "%.2f%% (30d)", $0 * 100) } ?? "no data"
            let up = p.uptime.last30d ?? 0
            color = p.uptime.last30d == nil ? "#6e7681" : up >= 0.999 ? "#1a7f37" : up >= 0.99 ? "#9a6700" : "#cf222e"
        }
        let label = HTML.escape(p.name)
        let shown = HTML.escape(value)
        // About 7 px a character in 11 px Verdana, plus padding.
        let left = 10 + 7 * p.name.count
        let right = 10 + 7 * value.count
        let width = left + right
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="20" role="img" aria-label="\(label): \(shown)">
            <title>\(label): \(shown)</title>
            <rect width="\(left)" height="20" fill="#555"/><rect x="\(left)" width="\(right)" height="20" fill="\(color)"/>
            <g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
            <text x="\(left / 2)" y="14">\(label)</text><text x="\(left + right / 2)" y="14">\(shown)</text>
            </g></svg>
            """
    }
}
