public import Hummingbird
public import NIOCore

/// Request context of the agent's router: the peer address, and the client IP the rate limiter
/// and audit log use (the TCP peer; on nginx's Unix socket, the address nginx forwards).
public struct AgentRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by ``EnvelopeMiddleware``.
    public var clientIP: String
    /// Whether the request came in on the Unix socket (nginx's channel).
    public let viaUnixSocket: Bool

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
        if case .unixDomainSocket = source.channel.localAddress {
            self.viaUnixSocket = true
        } else {
            self.viaUnixSocket = false
        }
    }

    /// Bodies are collected explicitly with the agent's own (much smaller) cap.
    public var maxUploadSize: Int { 64 * 1024 }
}
