import ActionKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The highest serial accepted per bundle id, persisted as `accepted-serials.json` in the state
/// directory (written atomically: temp file, fsync, rename). A lower serial is a rollback.
struct AcceptedSerials {
    static let fileName = "accepted-serials.json"
    let directory: String
    var serials: [String: Int]

    var path: String { "\(directory)/\(Self.fileName)" }

    /// Reads the file; a missing file means nothing accepted yet. A damaged file is an error:
    /// silently starting over would re-open every rollback.
    static func load(directory: String) throws(FileIOError) -> AcceptedSerials {
        let path = "\(directory)/\(fileName)"
        guard FileIO.exists(path) else { return AcceptedSerials(directory: directory, serials: [:]) }
        let bytes = try FileIO.read(path, limit: 1 << 20)
        guard let serials = try? JSONDecoder().decode([String: Int].self, from: Data(bytes)) else {
            throw FileIOError(path: path, message: "not a JSON object of bundle id to serial")
        }
        return AcceptedSerials(directory: directory, serials: serials)
    }

    /// Records `serial` for `bundleID` when higher than the stored one, and persists.
    mutating func record(bundleID: String, serial: Int) throws(FileIOError) {
        guard serials[bundleID].map({ serial > $0 }) ?? true else { return }
        serials[bundleID] = serial
        try FileIO.makeDirectory(directory, mode: 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(serials)) ?? Data("{}".utf8)
        try FileIO.replaceAtomically(path, bytes: Array(data) + [0x0A], mode: 0o600)
    }
}
