import Foundation

/// Blocking work (a child process, a plugin helper) on a thread of its own, never on the caller's
/// executor or a NIO event loop.
enum BlockingThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.name = name
            thread.start()
        }
    }
}
