import Prometheus
import Synchronization

/// Metric families with one series per property, kept apart from the Prometheus registry and rendered in its
/// text exposition format (`/metrics` appends them to the registry's output).
///
/// swift-prometheus copies a family's whole label table each time it adds a label set, so registering one
/// series per property there is quadratic in the number of properties (5,000 properties took ~18 s of the first
/// cycle). Here each family is a table keyed by label values: adding a series appends one row. The output is the
/// registry's, byte for byte: HELP and TYPE lines, labels in the family's order with values escaped (`\\`, `\"`,
/// `\n`), counters as integers, gauges as `Double`'s description, histograms with cumulative `_bucket{le=…}`
/// lines (bounds as the registry writes `Duration`s), `le="+Inf"`, `_sum` and `_count`. Families come out in
/// the order they were first used, series in the order they were added.
final class SeriesCollector: Sendable {
    /// A family's name, HELP text, type and label names (values are given in this order; at least one).
    struct Family: Sendable {
        enum Kind: Sendable { case counter, gauge, histogram(buckets: [Duration]) }

        let name: String
        let help: String
        let kind: Kind
        let labels: [String]
    }

    fileprivate struct Series {
        /// `name="value",…`, escaped.
        let labels: [UInt8]
        /// A counter's value, a histogram's count.
        var count: Int64 = 0
        var gauge: Double = 0
        /// Cumulative: each bucket counts the observations at or below its bound.
        var buckets: [Int64]
        var sum: Duration = .zero
    }

    fileprivate struct Table {
        let family: Family
        var rows: [[String]: Int] = [:]
        var series: [Series] = []
    }

    private struct State {
        /// Each family's place in `tables`, by name.
        var index: [String: Int] = [:]
        var tables: [Table] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Adds `amount` to the counter of `family` for `values` (made at 0 the first time).
    func increment(_ family: Family, _ values: [String], by amount: Int64 = 1) {
        update(family, values) { $0.count += amount }
    }

    func set(_ family: Family, _ values: [String], to value: Double) {
        update(family, values) { $0.gauge = value }
    }

    func record(_ family: Family, _ values: [String], _ duration: Duration) {
        guard case .histogram(let bounds) = family.kind else { return }
        update(family, values) { series in
            for (i, bound) in bounds.enumerated() where bound >= duration { series.buckets[i] += 1 }
            series.sum += duration
            series.count += 1
        }
    }

    private func update(_ family: Family, _ values: [String], _ change: (inout Series) -> Void) {
        precondition(values.count == family.labels.count, "\(family.name): \(values.count) label values")
        state.withLock { state in
            let table: Int
            if let known = state.index[family.name] {
                table = known
            } else {
                table = state.tables.count
                state.index[family.name] = table
                state.tables.append(Table(family: family))
            }
            state.tables[table].change(values, change)
        }
    }

    /// Appends every family in the text exposition format, rendered outside the lock from a snapshot (the
    /// tables are copied on write, so probes recorded meanwhile wait for none of it).
    func emit(into buffer: inout [UInt8]) {
        for table in state.withLock({ $0.tables }) { table.emit(into: &buffer) }
    }
}

extension SeriesCollector.Table {
    fileprivate mutating func change(_ values: [String], _ change: (inout SeriesCollector.Series) -> Void) {
        if let row = rows[values] {
            change(&series[row])
            return
        }
        var labels: [UInt8] = []
        for (i, (name, value)) in zip(family.labels, values).enumerated() {
            if i > 0 { labels.append(UInt8(ascii: ",")) }
            labels.append(contentsOf: name.utf8)
            labels.append(contentsOf: #"=""#.utf8)
            labels.appendEscapedLabelValue(value)
            labels.append(UInt8(ascii: "\""))
        }
        var buckets: [Int64] = []
        if case .histogram(let bounds) = family.kind { buckets = Array(repeating: 0, count: bounds.count) }
        rows[values] = series.count
        series.append(SeriesCollector.Series(labels: labels, buckets: buckets))
        change(&series[series.count - 1])
    }

    fileprivate func emit(into buffer: inout [UInt8]) {
        let name = family.name
        buffer.append(contentsOf: "# HELP \(name) ".utf8)
        for byte in family.help.utf8 {
            if byte == UInt8(ascii: "\\") { buffer.append(UInt8(ascii: "\\")) }
            buffer.append(byte)
        }
        buffer.append(UInt8(ascii: "\n"))
        switch family.kind {
        case .counter:
            buffer.append(contentsOf: "# TYPE \(name) counter\n".utf8)
            for series in series { buffer.appendSample(name, "", series.labels, "\(series.count)") }
        case .gauge:
            buffer.append(contentsOf: "# TYPE \(name) gauge\n".utf8)
            for series in series { buffer.appendSample(name, "", series.labels, "\(series.gauge)") }
        case .histogram(let bounds):
            buffer.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
            let les = bounds.map { Array(#"le="\#($0.bucketRepresentation)""#.utf8) }
            for series in series {
                var labels = series.labels
                labels.append(UInt8(ascii: ","))
                let prefix = labels.count
                for (le, count) in zip(les, series.buckets) {
                    labels.removeSubrange(prefix...)
                    labels.append(contentsOf: le)
                    buffer.appendSample(name, "_bucket", labels, "\(count)")
                }
                labels.removeSubrange(prefix...)
                labels.append(contentsOf: #"le="+Inf""#.utf8)
                buffer.appendSample(name, "_bucket", labels, "\(series.count)")
                buffer.appendSample(name, "_sum", series.labels, series.sum.bucketRepresentation)
                buffer.appendSample(name, "_count", series.labels, "\(series.count)")
            }
        }
    }
}

extension [UInt8] {
    /// `name` + `suffix` + `{labels}` + ` value\n`.
    fileprivate mutating func appendSample(_ name: String, _ suffix: String, _ labels: [UInt8], _ value: String) {
        append(contentsOf: name.utf8)
        append(contentsOf: suffix.utf8)
        append(UInt8(ascii: "{"))
        append(contentsOf: labels)
        append(contentsOf: "} ".utf8)
        append(contentsOf: value.utf8)
        append(UInt8(ascii: "\n"))
    }

    /// A label value with backslash, double quote and line feed escaped (the text exposition format).
    fileprivate mutating func appendEscapedLabelValue(_ value: String) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\""): append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\n"): append(contentsOf: #"\n"#.utf8)
            default: append(byte)
            }
        }
    }
}
