import ActionKit
import Hummingbird
import NIOCore

/// The optional run body: `{"reason": string ≤ 500, "incident": string ≤ 64}`, nothing else.
///
/// Parsed as strictly as a manifest (the same RFC 8259 parser, ``JSONTree``): a duplicate key,
/// an unknown key, a wrong type, invalid JSON or an oversize body is a 400 (413 for the size)
/// naming the key or the byte offset (echoed text is cleaned of control and bidi characters by
/// the route, ``AuditText``). Two readers can never see two different bodies.
struct RunBody: Sendable {
    var reason: String?
    var incident: String?

    static let maxReason = AgentAPI.RunRequest.maxReasonScalars
    static let maxIncident = 64

    static func parse(_ request: Request, maxBytes: Int) async throws -> RunBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw AgentHTTPError(.contentTooLarge, "request body larger than \(maxBytes) bytes", outcome: "too_large")
        }
        return try parse(Array(buffer.readableBytesView))
    }

    static func parse(_ bytes: [UInt8]) throws(AgentHTTPError) -> RunBody {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) { return RunBody() }
        let tree: JSONTree
        do {
            tree = try JSONTreeParser.parse(bytes, maxDepth: 8)
        } catch {
            throw .badRequest("request body: \(error.description)")
        }
        guard case .object(let members) = tree else {
            throw .badRequest(
                "request body must be a JSON object with optional string fields reason and incident (got \(tree.typeName))"
            )
        }
        var body = RunBody()
        for member in members {
            switch member.key {
            case "reason": body.reason = try string(member.value, key: "reason", max: maxReason)
            case "incident": body.incident = try string(member.value, key: "incident", max: maxIncident)
            default:
                throw .badRequest(
                    "request body: unknown key '\(String(member.key.unicodeScalars.prefix(64)))'"
                )
            }
        }
        return body
    }

    private static func string(_ value: JSONTree, key: String, max: Int) throws(AgentHTTPError) -> String? {
        switch value {
        case .null: return nil
        case .string(let text):
            guard text.unicodeScalars.count <= max else {
                throw .badRequest("request body: '\(key)' longer than \(max) characters")
            }
            return text
        default:
            throw .badRequest("request body: '\(key)' must be a string (got \(value.typeName))")
        }
    }
}
