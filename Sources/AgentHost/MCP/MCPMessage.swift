import ActionKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One JSON-RPC 2.0 message as `POST /mcp` accepts it: a single object (no batches), a request
/// (`id` + `method`), a notification (`method` only) or a response (`id` + `result`/`error`).
struct MCPMessage: Sendable {
    enum Kind: Sendable, Equatable {
        case request(id: RPCID, method: String)
        case notification(method: String)
        case response
    }

    var kind: Kind
    var params: [String: JSONValue]

    /// Why a body is not a message we take: the JSON-RPC error to answer with.
    struct Invalid: Error, Sendable {
        var error: RPCError
        var id: RPCID?
    }

    static func parse(_ bytes: [UInt8]) throws(Invalid) -> MCPMessage {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw Invalid(error: RPCError(.parseError, "parse error: the body is not JSON"))
        }
        if case .array = value {
            throw Invalid(
                error: RPCError(.invalidRequest, "batches are not supported: send one JSON-RPC message per request")
            )
        }
        guard case .object(let object) = value else {
            throw Invalid(error: RPCError(.invalidRequest, "invalid request: a JSON-RPC message must be an object"))
        }
        var id: RPCID?
        if let raw = object["id"] {
            guard let parsed = RPCID(raw) else {
                throw Invalid(error: RPCError(.invalidRequest, "invalid request: 'id' must be a string or an integer"))
            }
            id = parsed
        }
        guard object["jsonrpc"] == .string("2.0") else {
            throw Invalid(error: RPCError(.invalidRequest, "invalid request: 'jsonrpc' must be \"2.0\""), id: id)
        }
        for key in object.keys.sorted() where !["jsonrpc", "id", "method", "params", "result", "error"].contains(key) {
            throw Invalid(
                error: RPCError(
                    .invalidRequest,
                    "invalid request: unknown member '\(String(key.unicodeScalars.prefix(64)))'"
                ),
                id: id
            )
        }
        if object["method"] == nil {
            // A response to a request of ours (we send none): an id and exactly one of result / error.
            let isError: Bool? =
                switch (object["result"], object["error"]) {
                case (.some, nil): false
                case (nil, .object?): true
                default: nil
                }
            guard id != nil, isError != nil, object["params"] == nil else {
                throw Invalid(
                    error: RPCError(.invalidRequest, "invalid request: 'method' must be a string"),
                    id: id
                )
            }
            return MCPMessage(kind: .response, params: [:])
        }
        guard case .string(let method)? = object["method"] else {
            throw Invalid(error: RPCError(.invalidRequest, "invalid request: 'method' must be a string"), id: id)
        }
        guard object["result"] == nil, object["error"] == nil else {
            throw Invalid(
                error: RPCError(.invalidRequest, "invalid request: a request has no 'result' or 'error'"),
                id: id
            )
        }
        var params: [String: JSONValue] = [:]
        switch object["params"] {
        case nil: break
        case .object(let given)?: params = given
        default:
            throw Invalid(error: RPCError(.invalidParams, "invalid params: 'params' must be an object"), id: id)
        }
        if let id { return MCPMessage(kind: .request(id: id, method: method), params: params) }
        return MCPMessage(kind: .notification(method: method), params: params)
    }
}

/// A JSON-RPC id: a string or an integer (fractions and null are refused).
enum RPCID: Sendable, Hashable, Encodable {
    case string(String)
    case int(Int)

    init?(_ value: JSONValue) {
        switch value {
        case .string(let text) where text.utf8.count <= 256: self = .string(text)
        case .number(let number) where number.rounded() == number && abs(number) <= 9_007_199_254_740_991:
            self = .int(Int(number))
        default: return nil
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .int(let number): try container.encode(number)
        }
    }
}

/// A JSON-RPC error object.
struct RPCError: Error, Sendable, Encodable {
    enum Code: Int, Sendable {
        case parseError = -32700
        case invalidRequest = -32600
        case methodNotFound = -32601
        case invalidParams = -32602
        case internalError = -32603
    }

    var code: Int
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code.rawValue
        self.message = message
    }
}

/// `{"jsonrpc":"2.0","id":…,"result":…}` or `…,"error":{…}}`; `id` is null when the request's
/// could not be read.
struct RPCReply: Encodable {
    var id: RPCID?
    var result: JSONValue?
    var error: RPCError?

    enum CodingKeys: String, CodingKey { case jsonrpc, id, result, error }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("2.0", forKey: .jsonrpc)
        if let id { try container.encode(id, forKey: .id) } else { try container.encodeNil(forKey: .id) }
        if let error {
            try container.encode(error, forKey: .error)
        } else {
            try container.encode(result ?? .object([:]), forKey: .result)
        }
    }
}
