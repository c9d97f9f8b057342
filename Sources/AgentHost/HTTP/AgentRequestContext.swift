public import Hummingbird
public import NIOCore

/// Request context of the agent's router: the peer address, and the client IP the rate limiter
/// and audit log use (the peer, or a forwarded address when the peer is a trusted proxy).
public struct AgentRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by ``ClientIPMiddleware``.
    public var clientIP: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies are collected explicitly with the agent's own (much smaller) cap.
    public var maxUploadSize: Int { 64 * 1024 }
}
