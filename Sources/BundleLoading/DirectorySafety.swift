#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Safe-path rules for directories the agent trusts (bundles, trusted keys) and the files in them.
///
/// The path is opened one component at a time from `/` with `openat(…, O_NOFOLLOW | O_DIRECTORY)`,
/// and every rule is checked with `fstat` on the descriptor just opened: none may be a symlink; each
/// must be owned by root or by the agent's effective user; none may be group- or other-writable,
/// except an *ancestor* directory owned by root with the sticky bit set (like `/tmp`). Nothing is
/// checked by path and opened later (no check-then-open): see ``SafeDirectory``.
public enum DirectorySafety {
    /// Why a path is unsafe: names the component and the rule.
    public struct Unsafe: Error, Sendable, Hashable, CustomStringConvertible {
        /// The offending path (the directory checked or one of its ancestors or files).
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Owners accepted by default: root and the effective user of this process.
    public static var defaultOwners: Set<UInt32> { [0, UInt32(geteuid())] }

    /// Checks that `path` is a directory and it and all its ancestors are safe.
    public static func check(path: String, owners: Set<UInt32> = defaultOwners) throws(Unsafe) {
        _ = try SafeDirectory.open(path, owners: owners)
    }

    /// An absolute, lexically normalized form of `path` (relative paths are taken from the working directory).
    public static func normalize(_ path: String) throws(Unsafe) -> String {
        guard !path.isEmpty else { throw Unsafe(path: path, reason: "empty path") }
        var full = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else {
                throw Unsafe(path: path, reason: "cannot resolve a relative path: getcwd failed")
            }
            full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func checkDirectory(_ path: String, _ info: stat, owners: Set<UInt32>, isAncestor: Bool) throws(Unsafe) {
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { throw Unsafe(path: path, reason: "is a symbolic link") }
        guard type == S_IFDIR else { throw Unsafe(path: path, reason: "is not a directory") }
        guard owners.contains(UInt32(info.st_uid)) else {
            throw Unsafe(path: path, reason: "owned by uid \(info.st_uid), not root or the agent's user")
        }
        let writableByOthers = (info.st_mode & (S_IWGRP | S_IWOTH)) != 0
        if writableByOthers {
            let stickyRootAncestor = isAncestor && info.st_uid == 0 && (info.st_mode & S_ISVTX) != 0
            if !stickyRootAncestor {
                throw Unsafe(
                    path: path,
                    reason: "is group- or other-writable (mode \(modeString(info.st_mode)))"
                )
            }
        }
    }

    /// Checks one entry inside a checked directory: a regular file, safe owner, no group/other write.
    static func checkFile(_ path: String, _ info: stat, owners: Set<UInt32>) throws(Unsafe) {
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { throw Unsafe(path: path, reason: "is a symbolic link") }
        guard type == S_IFREG else { throw Unsafe(path: path, reason: "is not a regular file") }
        guard owners.contains(UInt32(info.st_uid)) else {
            throw Unsafe(path: path, reason: "owned by uid \(info.st_uid), not root or the agent's user")
        }
        guard (info.st_mode & (S_IWGRP | S_IWOTH)) == 0 else {
            throw Unsafe(path: path, reason: "is group- or other-writable (mode \(modeString(info.st_mode)))")
        }
    }

    static func modeString(_ mode: mode_t) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
