import Hummingbird
import Logging
import NIOCore

/// Serves `router` on 127.0.0.1 with a kernel-chosen port for the duration of `body`.
///
/// The server runs in a child task of a task group; it is shut down (cancelled) when `body`
/// returns or throws, so nothing outlives the call.
public func withLoopbackRouter<T: Sendable>(
    _ router: Router<BasicRequestContext>,
    _ body: @Sendable (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: "zumik.test.loopback")
    logger.logLevel = .critical  // cancellation at the end of a test logs an error otherwise
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        },
        logger: logger
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            group.cancelAll()
            throw LoopbackServerError(message: "the loopback server did not report a port")
        }
        do {
            let result = try await body(port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

public struct LoopbackServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
