import Foundation
import Synchronization

/// A loopback Discord webhook stand-in. It records every request, validates bodies (on demand) against
/// `discord_execute_webhook.strict.schema.json`, and answers from a script (429s, 500s, stalls), then 204.
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
        public var validationError: String? { Specs.validate(request.body, schema: FakeDiscord.schema) }

        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        }
    }

    private final class Shared: Sendable {
        let lock = Mutex<(script: [Reply], records: [Record])>(([], []))
    }

    private let shared: Shared
    private let server: LoopbackServer
    public static let schema = "discord_execute_webhook.strict.schema.json"

    public var webhookURL: String { "http://127.0.0.1:\(server.port)/api/webhooks/123456789012345678/fake-token" }
    public var port: Int { server.port }

    public init(script: [Reply] = [], refusesInvalid: Bool = false) throws {
        let shared = Shared()
        shared.lock.withLock { $0.script = script }
        self.shared = shared
        server = try LoopbackServer { request in
            if refusesInvalid, Specs.validate(request.body, schema: FakeDiscord.schema) != nil {
                shared.lock.withLock { $0.records.append(Record(request: request, reply: "400")) }
                return .respond(status: 400, body: #"{"code": 50035, "message": "Invalid Form Body"}"#)
            }
            let reply: Reply = shared.lock.withLock { s in s.script.isEmpty ? .noContent : s.script.removeFirst() }
            let (answer, label): (LoopbackServer.Reply, String) =
                switch reply {
                case .noContent: (.respond(status: 204), "204")
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
                $0.records.append(Record(request: request, reply: label))
            }
            return answer
        }
    }

    /// Appends scripted replies.
    public func script(_ replies: [Reply]) { shared.lock.withLock { $0.script.append(contentsOf: replies) } }

    public var records: [Record] { shared.lock.withLock { $0.records } }

    /// Bodies of the requests that were answered 2xx (i.e. delivered).
    public var delivered: [Record] { records.filter { $0.reply == "204" } }

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
