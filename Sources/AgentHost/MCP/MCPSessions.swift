import ServerSupport
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The MCP sessions this agent remembers: the id it handed out at `initialize` and the client's
/// declared name, for the audit. Bounded: past `capacity` the oldest session is forgotten (its
/// client gets 404 and initializes again, as the Streamable HTTP transport prescribes).
final class MCPSessions: Sendable {
    struct Session: Sendable, Hashable {
        var clientName: String?
        var protocolVersion: String
    }

    private struct Table {
        var sessions: [String: Session] = [:]
        var order: [String] = []
    }

    private let capacity: Int
    private let table = Mutex(Table())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// A new session; its id is 32 hex digits of randomness (visible ASCII, as the spec requires).
    func open(_ session: Session) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = Hex.string((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        table.withLock { table in
            table.sessions[id] = session
            table.order.append(id)
            while table.order.count > capacity {
                table.sessions[table.order.removeFirst()] = nil
            }
        }
        return id
    }

    func session(id: String) -> Session? {
        table.withLock { $0.sessions[id] }
    }

    /// A declared client name as the audit keeps it: no control or format characters (which
    /// include the bidi overrides), at most 64 characters; nil when nothing is left.
    static func cleanClientName(_ name: String?) -> String? {
        guard let name else { return nil }
        let kept = name.unicodeScalars.filter {
            switch $0.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                false
            default: true
            }
        }
        let cleaned = String(String.UnicodeScalarView(kept.prefix(64))).trimmingSpaces
        return cleaned.isEmpty ? nil : cleaned
    }
}
