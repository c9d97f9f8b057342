import Foundation
import Probing

/// What every page shares: escaping, the document shell with its inline style (light and dark, phone width),
/// and how states, figures and times are written. No script, no request to anywhere else.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func document(title: String, heading: String, updated: Date, body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="icon" href="data:,">
        <style>\(style)</style>
        </head>
        <body>
        <header><h1>\(escape(heading))</h1><p class="muted">Updated \(time(updated))</p></header>
        <main>
        \(body)
        </main>
        <footer><p class="muted">Served by zumik-monitor. States are written out and marked with a symbol, not only a colour.</p></footer>
        </body>
        </html>
        """
    }

    /// The state as a symbol and a word, never a colour alone.
    static func state(_ health: Health?) -> String {
        let (symbol, word, css) = label(health)
        return "<span class=\"state \(css)\"><span aria-hidden=\"true\">\(symbol)</span> \(word)</span>"
    }

    static func label(_ health: Health?) -> (symbol: String, word: String, css: String) {
        switch health {
        case .healthy: ("✔", "Operational", "s-healthy")
        case .degraded: ("▲", "Degraded", "s-degraded")
        case .down: ("✖", "Down", "s-down")
        case nil: ("?", "No data", "s-none")
        }
    }

    /// `99.95 %`, or an en dash without data.
    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.2f\u{00A0}%%", value * 100)
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        if s < 86400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86400) d \(s % 86400 / 3600) h"
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `<time>` with the machine form; shown as `YYYY-MM-DD HH:MM UTC` (`HH:MM:SS` with `seconds`).
    static func time(_ date: Date, seconds: Bool = false) -> String {
        let iso = iso(date)
        let shown = iso.replacingOccurrences(of: "T", with: " ").dropLast(seconds ? 1 : 4) + " UTC"
        return "<time datetime=\"\(iso)\">\(shown)</time>"
    }

    static let style = """
        :root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--none:#8c959f}
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--none:#6e7681}}
        *{box-sizing:border-box}body{margin:0 auto;max-width:60rem;padding:1rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
        h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
        .muted{color:var(--muted);font-size:.875rem}table{border-collapse:collapse;width:100%}caption{text-align:left}
        th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.scroll{overflow-x:auto}
        ul.locations{list-style:none;margin:.2rem 0 0;padding:0;font-size:.9em}
        .state{font-weight:600;white-space:nowrap}.s-healthy{color:var(--ok)}.s-degraded{color:var(--warn)}.s-down{color:var(--bad)}.s-none{color:var(--none)}
        .bar{display:flex;gap:1px;list-style:none;margin:0;padding:0;height:2rem;align-items:stretch}
        .bar li{flex:1;min-width:2px;border-radius:1px;background:var(--none)}
        .bar li.c-healthy{background:var(--ok)}
        .bar li.c-degraded{background:repeating-linear-gradient(45deg,var(--warn) 0 2px,transparent 2px 4px);border:1px solid var(--warn)}
        .bar li.c-down{background:var(--bad);border-top:.5rem solid var(--fg)}
        .legend{display:flex;flex-wrap:wrap;gap:1rem;font-size:.875rem;margin:.3rem 0}
        .timeline{list-style:none;padding:0;margin:0;border-left:2px solid var(--line)}
        .timeline li{margin:0 0 .6rem;padding-left:.8rem}.timeline .kind{font-weight:600}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;margin:.2rem 0;font-size:.875rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
        svg.chart{width:100%;height:auto;max-height:10rem}svg.chart .p50{stroke:var(--ok)}svg.chart .p95{stroke:var(--warn);stroke-dasharray:4 2}
        @media (max-width:30rem){body{padding:.6rem;font-size:15px}th,td{padding:.3rem .25rem}.wide{display:none}td time{white-space:normal}table{font-size:14px}td .state{white-space:normal}}
        """
}
