import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Swaps `bundles/<name>` between the real directory and the symlink `bundles/.link`, as fast as
/// it can, on its own thread (renames only: each state is a complete directory or a symlink).
public final class DirectorySwapper: Sendable {
    public let bundles: String
    public let name: String
    private let running = Atomic<Bool>(true)
    private let swaps = Atomic<Int>(0)
    private let done = Mutex<Bool>(false)

    public init(bundles: String, name: String) {
        self.bundles = bundles
        self.name = name
    }

    public func start() {
        let thread = Thread { [self] in
            let real = "\(bundles)/\(name)"
            let parked = "\(bundles)/.real"
            let link = "\(bundles)/.link"
            while running.load(ordering: .relaxed) {
                guard rename(real, parked) == 0 else { break }
                rename(link, real)
                rename(real, link)
                rename(parked, real)
                swaps.add(1, ordering: .relaxed)
            }
            done.withLock { $0 = true }
        }
        thread.start()
    }

    /// Stops the swapper, waits for it to leave the real directory in place; returns the swap count.
    public func stop() -> Int {
        running.store(false, ordering: .relaxed)
        while !done.withLock({ $0 }) { usleep(1000) }
        return swaps.load(ordering: .relaxed)
    }
}
