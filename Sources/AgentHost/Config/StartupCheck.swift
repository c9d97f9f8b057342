import BundleLoading
import CZumikSys

#if canImport(Glibc)
import Glibc
#endif

/// The start-up refusals that look at the file system.
public enum StartupCheck {
    /// A directory the agent trusts (bundles, trusted keys) must pass the loader's safe-path rules
    /// (``DirectorySafety``): a real directory, no symlink on its path, owned by root or the agent's
    /// user, not group- or other-writable (a root-owned sticky ancestor such as /tmp is accepted).
    public static func checkTrustedDirectory(_ path: String, key: String) throws(StartupError) {
        do {
            try DirectorySafety.check(path: path)
        } catch {
            throw StartupError("\(key) \(path): unsafe directory: \(error.description)")
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
