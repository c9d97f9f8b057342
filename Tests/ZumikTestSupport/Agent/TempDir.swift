import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A unique temp directory (mode 0700, from `mkdtemp`), removed by ``remove()``.
public struct TempDir: Sendable {
    public let path: String

    public init(_ prefix: String = "zumik-test") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RawHTTPError(message: "mkdtemp failed: \(errno)")
        }
        path = String(cString: result)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
