import Foundation
import Synchronization

/// A loopback Discord webhook stand-in. It records every request, validates bodies (on demand) against
/// `discord_execute_webhook.strict.schema.json` (a POST) or `discord_update_webhook_message.schema.json` (a
/// PATCH), and answers from a script (429s, 500s, stalls), then as Discord does: 204 to a POST, 200 with a
/// schema-valid message object to `POST ?wait=true` (a new message id), 200 to `PATCH …/messages/{id}` of a
/// message it created (404 to any other id, or one deleted with `deleteMessage`). It keeps each message's
/// history (the create, then every edit) for tests to assert on.
/// With `refusesInvalid`, it answers a body the schema rejects with 400 as Discord does (validated on the
/// request path, so only tests that need it pay for it).
public final class FakeDiscord: Sendable {
    public enum Reply: Sendable {
        case noContent
        /// 429 with `{"message", "retry_after", "global"}` and a `Retry-After` header.
        case rateLimited(retryAfter: Double)
        case status(Int)
        /// Never answer this request (the connection stays open until the fake stops).
        case stall
    }

    public struct Record: Sendable {
        public var request: ReceivedRequest
        public var reply: String

        /// nil when the body is valid under the strict schema, else the validator's output. Runs the validator
        /// on access (off the request path, so a loaded machine does not slow the replies down).
        public var validationError: String? { Specs.validate(request.body, schema: FakeDiscord.schema(for: request)) }

        /// A `POST` (a new message), not an edit.
        public var isPost: Bool { request.method == "POST" }

        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        }
    }

    private final class Shared: Sendable {
        let lock = Mutex<
            (script: [Reply], records: [Record], messages: [String: [Record]], deleted: Set<String>, next: Int)
        >(([], [], [:], [], 1))
    }

    private let shared: Shared
    private let server: LoopbackServer
    public static let schema = "discord_execute_webhook.strict.schema.json"
    public static let editSchema = "discord_update_webhook_message.schema.json"
    public static let messageSchema = "discord_webhook_message_response.schema.json"

    static func schema(for request: ReceivedRequest) -> String { request.method == "PATCH" ? editSchema : schema }

    /// The message object answered to `?wait=true` and to edits: the vendored valid example with its id.
    static func messageObject(id: String) -> String {
        let example = Specs.directory?.appendingPathComponent("examples/discord_webhook_message_response_valid.json")
        guard let example, let data = try? Data(contentsOf: example),
            var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return #"{"id": "\#(id)"}"# }
        object["id"] = id
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: body, as: UTF8.self)
    }

    public var webhookURL: String { "http://127.0.0.1:\(server.port)/api/webhooks/123456789012345678/fake-token" }
    public var port: Int { server.port }

    /// The webhook URL as reached at `host` (a stand-in in a network namespace is reached at another address).
    public func webhookURL(host: String) -> String {
        "http://\(host):\(server.port)/api/webhooks/123456789012345678/fake-token"
    }

    /// `namespace`: listen on 0.0.0.0 inside that network namespace (``NetnsFleet``'s hub) instead of 127.0.0.1.
    public init(script: [Reply] = [], refusesInvalid: Bool = false, namespace: String? = nil) throws {
        let shared = Shared()
        shared.lock.withLock { $0.script = script }
        self.shared = shared
        server = try LoopbackServer(bindAddress: namespace == nil ? "127.0.0.1" : "0.0.0.0", namespace: namespace) {
            request in
            if refusesInvalid, Specs.validate(request.body, schema: FakeDiscord.schema(for: request)) != nil {
                shared.lock.withLock { $0.records.append(Record(request: request, reply: "400")) }
                return .respond(status: 400, body: #"{"code": 50035, "message": "Invalid Form Body"}"#)
            }
            let reply: Reply = shared.lock.withLock { s in s.script.isEmpty ? .noContent : s.script.removeFirst() }
            let (answer, label): (LoopbackServer.Reply, String) =
                switch reply {
                case .noContent: FakeDiscord.answer(request, shared)
                case .rateLimited(let after):
                    (
                        .respond(
                            status: 429,
                            headers: [
                                ("Content-Type", "application/json"), ("Retry-After", "\(Int(after.rounded(.up)))"),
                            ],
                            body:
                                #"{"message": "You are being rate limited.", "retry_after": \#(after), "global": false}"#
                        ), "429"
                    )
                case .status(let code): (.respond(status: code, body: #"{"message": "scripted"}"#), "\(code)")
                case .stall: (.stall, "stall")
                }
            shared.lock.withLock {
                let record = Record(request: request, reply: label)
                $0.records.append(record)
                if label == "200", let id = FakeDiscord.messageID(of: request, created: answer) {
                    $0.messages[id, default: []].append(record)
                }
            }
            return answer
        }
    }

    /// Discord's answer once the script is spent: a POST 204 (or 200 with the message under `?wait=true`), an
    /// edit of a known message 200, of an unknown or deleted one 404.
    private static func answer(_ request: ReceivedRequest, _ shared: Shared) -> (LoopbackServer.Reply, String) {
        let json = [("Content-Type", "application/json")]
        if request.method == "PATCH" {
            let id = String(request.target.split(separator: "?")[0].split(separator: "/").last ?? "")
            let known = shared.lock.withLock { $0.messages[id] != nil && !$0.deleted.contains(id) }
            guard known else {
                return (
                    .respond(status: 404, headers: json, body: #"{"message": "Unknown Message", "code": 10008}"#), "404"
                )
            }
            return (.respond(status: 200, headers: json, body: messageObject(id: id)), "200")
        }
        guard request.target.contains("wait=true") else { return (.respond(status: 204), "204") }
        let id = shared.lock.withLock { s in
            s.next += 1
            return String(1_400_000_000_000_000_000 + s.next)
        }
        return (.respond(status: 200, headers: json, body: messageObject(id: id)), "200")
    }

    /// The message a 200 answer was about: the id in an edit's path, or the id a create's answer carries.
    private static func messageID(of request: ReceivedRequest, created answer: LoopbackServer.Reply) -> String? {
        if request.method == "PATCH" {
            return request.target.split(separator: "?")[0].split(separator: "/").last.map(String.init)
        }
        guard case .respond(_, _, let body, _) = answer,
            let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        else { return nil }
        return object["id"] as? String
    }

    /// Each message created with `?wait=true`, by id: its create, then every edit, in order.
    public var messages: [String: [Record]] { shared.lock.withLock { $0.messages } }

    /// Deletes a message as a user could in Discord: later edits of it are answered 404.
    public func deleteMessage(_ id: String) { _ = shared.lock.withLock { $0.deleted.insert(id) } }

    /// Requests that created a message (every POST answered 2xx).
    public var posts: [Record] { records.filter { $0.isPost && $0.reply.hasPrefix("2") } }

    /// Appends scripted replies.
    public func script(_ replies: [Reply]) { shared.lock.withLock { $0.script.append(contentsOf: replies) } }

    public var records: [Record] { shared.lock.withLock { $0.records } }

    /// Bodies of the requests that were answered 2xx (i.e. delivered).
    public var delivered: [Record] { records.filter { $0.reply.hasPrefix("2") } }

    /// Waits (polling, generous timeout) until `condition` holds for the records.
    public func waitUntil(timeout: Duration = .seconds(60), _ condition: ([Record]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition(records) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(records)
    }

    public func stop() { server.stop() }
}
