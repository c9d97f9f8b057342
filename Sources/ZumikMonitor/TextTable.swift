import Foundation

/// Rows as aligned columns (two spaces apart; the last column is not padded), header first.
func textTable(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = (0..<header.count - 1).map { i in all.map { $0[i].count }.max() ?? 0 }
    return all.map { row in
        row.indices.map { i in
            i < widths.count ? row[i].padding(toLength: widths[i], withPad: " ", startingAt: 0) : row[i]
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
