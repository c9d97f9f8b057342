import CZumikSys
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The start-up refusals that look at the file system.
public enum StartupCheck {
    /// A directory the agent trusts (bundles, trusted keys) must exist, be a real directory (no
    /// symlink anywhere on its path), be owned by root or the agent's user, and not be writable
    /// by group or others; the same holds for every parent, except that a root-owned sticky
    /// directory (like /tmp) is accepted as a parent.
    public static func checkTrustedDirectory(_ path: String, key: String) throws(StartupError) {
        guard path.hasPrefix("/") else {
            throw StartupError("\(key) \(path): must be an absolute path")
        }
        let uid = getuid()
        var components = path.split(separator: "/").map(String.init)
        var current = path
        var isTarget = true
        while true {
            var mode: UInt32 = 0
            var owner: UInt32 = 0
            guard zumik_lstat(current, &mode, &owner) == 0 else {
                throw StartupError("\(key) \(current): unsafe directory: \(String(cString: strerror(errno)))")
            }
            if mode & S_IFMT == S_IFLNK {
                throw StartupError("\(key) \(current): unsafe directory: is a symlink")
            }
            guard mode & S_IFMT == S_IFDIR else {
                throw StartupError("\(key) \(current): unsafe directory: not a directory")
            }
            guard owner == 0 || owner == uid else {
                throw StartupError(
                    "\(key) \(current): unsafe directory: owned by uid \(owner), not root or the agent's user"
                )
            }
            let sticky = mode & S_ISVTX != 0
            if mode & 0o022 != 0 && !(sticky && !isTarget && owner == 0) {
                throw StartupError(
                    "\(key) \(current): unsafe directory: writable by group or others (mode \(String(mode & 0o7777, radix: 8)))"
                )
            }
            if current == "/" { break }
            isTarget = false
            components.removeLast()
            current = "/" + components.joined(separator: "/")
        }
    }

    /// Creates the state directory (0700) if missing and checks it like a trusted directory.
    public static func prepareStateDirectory(_ path: String) throws(StartupError) {
        var mode: UInt32 = 0
        var owner: UInt32 = 0
        if zumik_lstat(path, &mode, &owner) != 0 {
            guard mkdir(path, 0o700) == 0 else {
                throw StartupError("ZUMIK_STATE_DIR \(path): cannot create: \(String(cString: strerror(errno)))")
            }
        }
        try checkTrustedDirectory(path, key: "ZUMIK_STATE_DIR")
    }
}
