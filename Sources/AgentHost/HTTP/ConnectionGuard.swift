import NIOCore
import NIOHTTPTypes
import Synchronization

/// How many connections the agent keeps and for how long (issue #12, finding 4).
public struct ConnectionLimits: Sendable, Hashable {
    /// A connection's first request head must be complete this long after it was accepted.
    public var headerTimeoutSeconds: Double
    /// A connection with no request part read for this long (keep-alive idle, a stalled body) is closed.
    public var idleTimeoutSeconds: Double
    /// Connections kept at once, over every listener.
    public var maxConnections: Int
    /// Connections kept at once per client IP (TCP peers; the Unix socket is nginx's and exempt).
    public var maxConnectionsPerClient: Int

    public init(
        headerTimeoutSeconds: Double = 10,
        idleTimeoutSeconds: Double = 60,
        maxConnections: Int = 1024,
        maxConnectionsPerClient: Int = 64
    ) {
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnections = maxConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
    }
}

/// The agent's connection table: enforces ``ConnectionLimits`` across all listeners.
///
/// At a cap, the oldest connection still waiting for its first request head is closed to make
/// room (an idle or slow-header socket is worth less than a new one); only when every connection
/// at the cap is serving a request is the newcomer closed instead. So idle and half-open sockets
/// can never keep `/healthz` out, however many there are.
final class ConnectionGuard: Sendable {
    private struct Entry {
        var channel: any Channel
        var client: String?
        /// Last use: the oldest waiting connection goes first.
        var lastUsed: UInt64
        var waiting: Bool
    }

    private struct Table {
        /// By connection id (given out by ``admit(_:client:)``).
        var entries: [UInt64: Entry] = [:]
        var perClient: [String: Int] = [:]
        var clock: UInt64 = 0
    }

    let limits: ConnectionLimits
    private let table = Mutex(Table())
    /// Connections closed to make room or refused, for metrics and tests.
    private let shed = Atomic<Int>(0)

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    var openConnections: Int { table.withLock { $0.entries.count } }
    var shedConnections: Int { shed.load(ordering: .relaxed) }

    /// Registers a new connection: its id, or nil when it must be closed at once.
    func admit(_ channel: any Channel, client: String?) -> UInt64? {
        var toClose: [any Channel] = []
        let admitted = table.withLock { table -> UInt64? in
            if let client, table.perClient[client, default: 0] >= limits.maxConnectionsPerClient {
                guard let victim = Self.oldestWaiting(in: table, client: client) else { return nil }
                if let channel = Self.remove(victim, from: &table) { toClose.append(channel) }
            }
            if table.entries.count >= limits.maxConnections {
                guard let victim = Self.oldestWaiting(in: table, client: nil) else { return nil }
                if let channel = Self.remove(victim, from: &table) { toClose.append(channel) }
            }
            table.clock += 1
            table.entries[table.clock] = Entry(channel: channel, client: client, lastUsed: table.clock, waiting: true)
            if let client { table.perClient[client, default: 0] += 1 }
            return table.clock
        }
        shed.add(toClose.count + (admitted == nil ? 1 : 0), ordering: .relaxed)
        for victim in toClose { victim.close(promise: nil) }
        return admitted
    }

    /// The connection read a complete request head: it is not evictable while it is served.
    func serving(_ id: UInt64) {
        table.withLock { $0.entries[id]?.waiting = false }
    }

    /// The connection's response is written: it waits (keep-alive) and is evictable again, as
    /// the most recently used.
    func waiting(_ id: UInt64) {
        table.withLock { table in
            guard table.entries[id] != nil else { return }
            table.clock += 1
            table.entries[id]?.waiting = true
            table.entries[id]?.lastUsed = table.clock
        }
    }

    /// The connection closed (evicted ones were removed already).
    func closed(_ id: UInt64) {
        table.withLock { table in _ = Self.remove(id, from: &table) }
    }

    private static func oldestWaiting(in table: Table, client: String?) -> UInt64? {
        var best: (id: UInt64, lastUsed: UInt64)?
        for (id, entry) in table.entries where entry.waiting && (client == nil || entry.client == client) {
            if let current = best, current.lastUsed <= entry.lastUsed { continue }
            best = (id, entry.lastUsed)
        }
        return best?.id
    }

    private static func remove(_ id: UInt64, from table: inout Table) -> (any Channel)? {
        guard let entry = table.entries.removeValue(forKey: id) else { return nil }
        if let client = entry.client {
            let remaining = table.perClient[client, default: 1] - 1
            table.perClient[client] = remaining > 0 ? remaining : nil
        }
        return entry.channel
    }
}

/// Per connection: registers it with the ``ConnectionGuard`` and closes it when its first
/// request head is not complete within the header timeout. Sits after the HTTP codec.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connections: ConnectionGuard
    private var registered = false
    private var id: UInt64?
    private var headerDeadline: Scheduled<Void>?

    init(connections: ConnectionGuard) {
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        let channel = context.channel
        // Unix-socket peers (nginx) share one address; only TCP peers have a per-client cap.
        let client = channel.remoteAddress?.ipAddress
        guard let id = connections.admit(channel, client: client) else {
            context.close(promise: nil)
            return
        }
        self.id = id
        let timeout = TimeAmount.nanoseconds(Int64(connections.limits.headerTimeoutSeconds * 1_000_000_000))
        headerDeadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            headerDeadline?.cancel()
            headerDeadline = nil
            if let id { connections.serving(id) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), let id { connections.waiting(id) }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        headerDeadline = nil
        if let id { connections.closed(id) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerDeadline?.cancel()
        headerDeadline = nil
    }
}
