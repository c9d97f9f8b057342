import ActionPluginKit

/// Reads the output of the host bundle's commands: the part of a bundle that is code.
///
/// A reader turns raw output into a small JSON object the monitor (and a model) can use without
/// parsing text; it runs in the agent's process, so it must never crash on odd input.
enum HostReaders {
    static func read(_ output: CommandOutput) -> (any Encodable)? {
        switch output.actionID {
        case "host_load": load(output)
        default: nil
        }
    }

    struct Load: Encodable, Hashable {
        var ok: Bool
        /// 1, 5 and 15 minute load averages, when the output had them.
        var load: [Double]
        var text: String
    }

    /// `uptime` prints e.g. ` 00:41:02 up 52 min,  0 users,  load average: 1.93, 2.20, 2.53`.
    static func load(_ output: CommandOutput) -> Load {
        let text = trimmed(output.stdoutText.prefix(300))
        var load: [Double] = []
        if let marker = text.firstRange(of: "load average:") {
            load = text[marker.upperBound...].split(separator: ",").compactMap { Double(trimmed($0)) }
        }
        return Load(ok: output.succeeded && load.count == 3, load: load, text: text)
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
