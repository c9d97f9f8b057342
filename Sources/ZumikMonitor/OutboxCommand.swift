import ArgumentParser
import Foundation
import Monitor
import Probing

extension ZumikMonitorCommand {
    /// `zumik-monitor outbox list|retry`: what is waiting or parked in the Discord outbox, and sending parked
    /// messages again once the webhook is fixed.
    struct Outbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the Discord outbox, or queue parked messages again.",
            subcommands: [List.self, Retry.self]
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List undelivered messages (pending and parked), oldest first; --all adds delivered ones."
            )

            @Option(help: "Path to the YAML configuration.")
            var config: String

            @Flag(help: "Also list delivered messages.")
            var all = false

            func run() async throws {
                let config = try loadConfig(config)
                let all = all
                let rows = try await OpenedStore(config, logger: quietLogger).use { store in
                    var rows = try await store.allOutbox().filter { all || $0.deliveredAt == nil }
                    // An incident's living message is rendered when sent: show what it would say now.
                    for index in rows.indices where rows[index].kind == "incident" {
                        guard let id = rows[index].incidentID, let incident = try await store.incident(id: id) else {
                            continue
                        }
                        let message = IncidentMessageRenderer.message(
                            incident: incident,
                            events: try await store.incidentEvents(incidentID: id)
                        )
                        rows[index].payload = String(decoding: message.jsonBody(), as: UTF8.self)
                    }
                    return rows
                }
                print(Self.table(rows))
            }

            static func table(_ rows: [OutboxRow]) -> String {
                let header = ["ID", "KIND", "INCIDENT", "STATE", "ATTEMPTS", "CREATED", "LAST ERROR", "TEXT"]
                let lines = rows.map { row -> [String] in
                    let state = row.deliveredAt != nil ? "delivered" : row.failedAt != nil ? "parked" : "pending"
                    let text = DiscordMessage.plainText(ofPayload: row.payload) ?? row.payload
                    return [
                        String(row.id), row.kind, row.incidentID.map(String.init) ?? "-", state, String(row.attempts),
                        row.createdAt.formatted(.iso8601), oneLine(row.lastError ?? "-", 60), oneLine(text, 80),
                    ]
                }
                return textTable(header: header, rows: lines)
            }

            static func oneLine(_ text: String, _ limit: Int) -> String {
                DiscordText.cut(text.split(whereSeparator: \.isNewline).joined(separator: " "), to: limit)
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Queue parked messages again (all, or --id N…). A running monitor sends them at once."
            )

            @Option(help: "Path to the YAML configuration.")
            var config: String

            @Option(name: .customLong("id"), help: "An outbox row id (repeatable); none: every parked row.")
            var ids: [Int64] = []

            func run() async throws {
                let config = try loadConfig(config)
                let wanted = ids.isEmpty ? nil : ids
                // Through the running monitor's control API, so its sender wakes now; else in the store.
                if let requeued = try await Self.viaControlAPI(config, wanted) {
                    print("queued again: \(Self.list(requeued)) (the running monitor is sending them)")
                    return
                }
                let requeued = try await OpenedStore(config, logger: quietLogger).use {
                    try await $0.requeueFailed(wanted, now: Date())
                }
                print("queued again: \(Self.list(requeued)) (no monitor answered; sent when it next runs)")
            }

            static func list(_ ids: [Int64]) -> String {
                ids.isEmpty ? "nothing parked" : ids.map(String.init).joined(separator: ", ")
            }

            /// The requeued ids, or nil when no monitor answers on the control address.
            static func viaControlAPI(_ config: MonitorConfig, _ ids: [Int64]?) async throws -> [Int64]? {
                struct Reply: Decodable { var requeued: [Int64] }
                let host = config.controlHost.contains(":") ? "[\(config.controlHost)]" : config.controlHost
                var headers: [(name: String, value: String)] = [(name: "Content-Type", value: "application/json")]
                if let token = config.secrets.controlToken {
                    headers.append((name: "Authorization", value: "Bearer \(token.value)"))
                }
                let body = ids.map { #"{"ids": [\#($0.map(String.init).joined(separator: ","))]}"# } ?? "{}"
                let url = "http://\(host):\(config.controlPort)/v1/outbox/retry"
                let result = await CurlEngine(maxInFlight: 1).send(
                    HTTPRequest(
                        method: "POST",
                        url: url,
                        headers: headers,
                        body: Array(body.utf8),
                        timeout: .seconds(10)
                    )
                )
                guard let status = result.status else { return nil }
                guard status == 200, let reply = try? JSONDecoder().decode(Reply.self, from: Data(result.body)) else {
                    let detail = DiscordText.cut(result.bodyText, to: 300)
                    FileHandle.standardError.write(Data("\(url): HTTP \(status): \(detail)\n".utf8))
                    throw ExitCode(1)
                }
                return reply.requeued
            }
        }
    }
}
