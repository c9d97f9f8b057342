public import ActionKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `O_PATH` (Linux): open for path operations and `fstat` only. Not exported by the Glibc module.
private let oPath: Int32 = 0o10000000

/// An open directory that passed the ``DirectorySafety`` rules, checked on its own descriptor.
///
/// Opened by an `openat` chain from `/`: each component with `O_NOFOLLOW | O_DIRECTORY`, then
/// `fstat` on that descriptor. Entries are opened relative to the descriptor (`O_NOFOLLOW`) and
/// checked with `fstat` on the descriptor that is then read, so swapping a component for a
/// symlink between the check and the read cannot redirect a read. The descriptor is closed when the
/// value goes away.
public final class SafeDirectory {
    /// The absolute, normalized path (for messages only; nothing is opened by it).
    public let path: String
    let fd: Int32
    let owners: Set<UInt32>

    private init(fd: Int32, path: String, owners: Set<UInt32>) {
        self.fd = fd
        self.path = path
        self.owners = owners
    }

    deinit { close(fd) }

    /// Opens `path` component by component from `/` and checks every component on its descriptor.
    public static func open(_ path: String, owners: Set<UInt32> = DirectorySafety.defaultOwners) throws(DirectorySafety
        .Unsafe) -> SafeDirectory
    {
        let absolute = try DirectorySafety.normalize(path)
        let components = absolute.split(separator: "/").map(String.init)
        // Ancestors are opened with oPath: only searched, never read (a 0711 parent is fine).
        let rootFD = Glibc.open("/", oPath | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw failure("/", errno, "open") }
        var current = SafeDirectory(fd: rootFD, path: "/", owners: owners)
        try current.checkSelf(isAncestor: !components.isEmpty)
        if components.isEmpty { return try current.reopenForReading() }
        for (index, component) in components.enumerated() {
            let isTarget = index == components.count - 1
            current = try current.openDirectory(component, isAncestor: !isTarget)
        }
        return current
    }

    /// Opens the sub-directory `name` (no symlink) and checks it as a non-ancestor directory.
    public func openDirectory(_ name: String) throws(DirectorySafety.Unsafe) -> SafeDirectory {
        try openDirectory(name, isAncestor: false)
    }

    private func openDirectory(_ name: String, isAncestor: Bool) throws(DirectorySafety.Unsafe) -> SafeDirectory {
        let childPath = join(name)
        let flags = (isAncestor ? oPath : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        let child = openat(fd, name, flags)
        guard child >= 0 else { throw Self.failure(childPath, errno, "open", parent: fd, name: name) }
        let directory = SafeDirectory(fd: child, path: childPath, owners: owners)
        try directory.checkSelf(isAncestor: isAncestor)
        return directory
    }

    private func checkSelf(isAncestor: Bool) throws(DirectorySafety.Unsafe) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure(path, errno, "fstat") }
        try DirectorySafety.checkDirectory(path, info, owners: owners, isAncestor: isAncestor)
    }

    private func reopenForReading() throws(DirectorySafety.Unsafe) -> SafeDirectory {
        let readable = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard readable >= 0 else { throw Self.failure(path, errno, "open") }
        let directory = SafeDirectory(fd: readable, path: path, owners: owners)
        try directory.checkSelf(isAncestor: false)
        return directory
    }

    /// Names in the directory, sorted, without `.` and `..`.
    public func entries() throws(DirectorySafety.Unsafe) -> [String] {
        let copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            throw Self.failure(path, code, "opendir")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Checks the entry `name` as a bundle file (regular, safe owner and mode) on a descriptor
    /// opened without following a symlink and without reading it.
    public func checkFile(_ name: String) throws(DirectorySafety.Unsafe) {
        let entry = openat(fd, name, oPath | O_NOFOLLOW | O_CLOEXEC)
        guard entry >= 0 else { throw Self.failure(join(name), errno, "open") }
        defer { close(entry) }
        var info = stat()
        guard fstat(entry, &info) == 0 else { throw Self.failure(join(name), errno, "fstat") }
        try DirectorySafety.checkFile(join(name), info, owners: owners)
    }

    /// Why reading a file failed: the safe-path rules, or the read itself.
    public enum ReadFailure: Error, Sendable {
        case unsafe(DirectorySafety.Unsafe)
        case io(FileIOError)
    }

    /// Opens `name` (`O_NOFOLLOW`), checks the open file with `fstat`, and reads at most `limit` bytes
    /// from that same descriptor.
    public func readFile(_ name: String, limit: Int) throws(ReadFailure) -> [UInt8] {
        let filePath = join(name)
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else {
            let code = errno
            if code == ELOOP { throw .unsafe(.init(path: filePath, reason: "is a symbolic link")) }
            throw .io(FileIOError(path: filePath, message: "cannot open: \(String(cString: strerror(code)))"))
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0 else {
            throw .io(FileIOError(path: filePath, message: "fstat failed: \(String(cString: strerror(errno)))"))
        }
        do {
            try DirectorySafety.checkFile(filePath, info, owners: owners)
        } catch {
            throw .unsafe(error)
        }
        do {
            return try FileIO.readAll(fd: file, path: filePath, limit: limit)
        } catch {
            throw .io(error)
        }
    }

    private func join(_ name: String) -> String { path == "/" ? "/\(name)" : "\(path)/\(name)" }

    /// A failed open names the rule when the entry is a symlink or not a directory (looked up on
    /// the parent's descriptor, for the message only).
    private static func failure(
        _ path: String,
        _ code: Int32,
        _ call: String,
        parent: Int32? = nil,
        name: String? = nil
    ) -> DirectorySafety.Unsafe {
        if let parent, let name, code == ELOOP || code == ENOTDIR {
            var info = stat()
            if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                let type = info.st_mode & S_IFMT
                if type == S_IFLNK { return .init(path: path, reason: "is a symbolic link") }
                if type != S_IFDIR { return .init(path: path, reason: "is not a directory") }
            }
        }
        if code == ELOOP { return .init(path: path, reason: "is a symbolic link") }
        if code == ENOTDIR { return .init(path: path, reason: "is not a directory") }
        return .init(path: path, reason: "cannot \(call): \(String(cString: strerror(code)))")
    }
}
