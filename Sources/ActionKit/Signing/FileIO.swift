#if canImport(Glibc)
package import Glibc
#elseif canImport(Darwin)
package import Darwin
#endif

/// A file-system failure, naming the file and the call that failed.
public struct FileIOError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    static func errno(_ path: String, _ call: String, _ code: Int32 = Glibc.errno) -> FileIOError {
        FileIOError(path: path, message: "\(call) failed: \(String(cString: strerror(code)))")
    }
}

/// Small POSIX file helpers: bounded reads, exclusive creates with a mode, atomic replaces.
package enum FileIO {
    /// Reads a whole regular file, refusing symlinks and files over `limit` bytes.
    package static func read(_ path: String, limit: Int) throws(FileIOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .errno(path, "open") }
        defer { close(fd) }
        return try readAll(fd: fd, path: path, limit: limit)
    }

    /// Reads an open regular file to its end, refusing more than `limit` bytes.
    package static func readAll(fd: Int32, path: String, limit: Int) throws(FileIOError) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .errno(path, "fstat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileIOError(path: path, message: "not a regular file")
        }
        guard Int(info.st_size) <= limit else {
            throw FileIOError(path: path, message: "file is \(info.st_size) bytes, over the \(limit)-byte limit")
        }
        var result: [UInt8] = []
        result.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .errno(path, "read")
            }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
            guard result.count <= limit else {
                throw FileIOError(path: path, message: "file grew over the \(limit)-byte limit while reading")
            }
        }
        return result
    }

    /// Writes `bytes` to a new file created with `mode`; fails if the file exists.
    package static func createExclusive(_ path: String, bytes: [UInt8], mode: mode_t) throws(FileIOError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .errno(path, "create") }
        defer { close(fd) }
        try writeAll(fd: fd, bytes: bytes, path: path)
        guard fchmod(fd, mode) == 0 else { throw .errno(path, "fchmod") }
        guard fsync(fd) == 0 else { throw .errno(path, "fsync") }
    }

    /// Replaces `path` atomically: write a temp file beside it, fsync, rename over, fsync the directory.
    package static func replaceAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws(FileIOError) {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .errno(temp, "create") }
        do throws(FileIOError) {
            try writeAll(fd: fd, bytes: bytes, path: temp)
            guard fchmod(fd, mode) == 0 else { throw FileIOError.errno(temp, "fchmod") }
            guard fsync(fd) == 0 else { throw FileIOError.errno(temp, "fsync") }
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        close(fd)
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw .errno(path, "rename", code)
        }
        let directory = parentDirectory(of: path)
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    package static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws(FileIOError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .errno(path, "write")
            }
            offset += n
        }
    }

    /// Creates a directory (and missing parents) with `mode`; an existing directory is fine.
    package static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(FileIOError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw FileIOError(path: path, message: "exists and is not a directory")
            }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path { try makeDirectory(parent, mode: mode) }
        if mkdir(path, mode) == 0 {
            // Not subject to the umask: the mode asked for is the mode the safety checks see.
            guard chmod(path, mode) == 0 else { throw .errno(path, "chmod") }
        } else if errno != EEXIST {
            throw .errno(path, "mkdir")
        }
    }

    package static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// Names in a directory, sorted, without `.` and `..`.
    package static func list(_ path: String) throws(FileIOError) -> [String] {
        guard let dir = opendir(path) else { throw .errno(path, "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The permission bits of `path` (not following a symlink).
    package static func permissions(_ path: String) throws(FileIOError) -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .errno(path, "stat") }
        return info.st_mode & 0o7777
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
