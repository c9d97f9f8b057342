import Foundation

/// How both backends keep a `PropertyState`: sorted-key JSON text, dates as seconds since 1970.
enum PropertyStateJSON {
    static func encode(_ state: PropertyState) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> PropertyState {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(PropertyState.self, from: Data(json.utf8))
    }
}
