import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Joining a named network namespace (`ip netns add NAME`, bound at `/run/netns/NAME`) from inside the test
/// process: only the calling thread joins (`setns(2)`), so the work runs on a thread of its own. A socket
/// keeps the namespace it was created in, so a server whose listening socket is made there serves that
/// namespace from any thread afterwards.
public enum NetworkNamespace {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000

    /// Glibc's `setns`, looked up at run time (Swift's Glibc module does not declare it).
    private static let setns: SetNS? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns").map {
        unsafeBitCast($0, to: SetNS.self)
    }

    /// Runs `body` on a new thread that has joined namespace `name`, and returns its result.
    public static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let thread = Thread {
            box.result = Result {
                try join(name)
                return try body()
            }
            box.done.signal()
        }
        thread.start()
        box.done.wait()
        return try box.result!.get()
    }

    /// The thread's result, handed over once behind the semaphore.
    private final class ResultBox<T: Sendable>: @unchecked Sendable {
        // @unchecked: `result` is written by the thread before `done.signal()` and read after `done.wait()`.
        var result: Result<T, any Error>?
        let done = DispatchSemaphore(value: 0)
    }

    /// Joins `name` on the calling thread (which must not go back to serve the test process).
    public static func join(_ name: String) throws {
        guard let setns else { throw Failure(description: "setns is not available in this C library") }
        let path = "/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): errno \(errno)") }
        defer { close(fd) }
        guard setns(fd, cloneNewNet) == 0 else {
            throw Failure(description: "setns(\(path)) failed: errno \(errno)")
        }
    }
}
