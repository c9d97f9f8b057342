import CZumikSys

#if canImport(Glibc)
import Glibc
#endif

/// Blocking work (a run's audit writes and child process, a plugin helper) on a thread of its own,
/// never on the caller's executor or a NIO event loop. A plain detached pthread: no run loop, no
/// Foundation.
enum BlockingThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start(name: name) { continuation.resume(returning: body()) }
        }
    }

    private final class Work {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new detached thread named `name` (at most 15 bytes are kept). If no thread
    /// can be created (the process is at its limit), `body` runs on the caller's thread instead:
    /// late rather than never.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let work = Unmanaged.passRetained(Work(name: name, body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread,
            &attributes,
            { raw in
                let work = Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue()
                _ = zumik_set_thread_name(work.name)
                work.body()
                return nil
            },
            work
        )
        if rc != 0 {
            Unmanaged<Work>.fromOpaque(work).takeRetainedValue().body()
        }
    }
}
