import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import Probing

/// The status routes, pages and badges (issue 14), added to the control API's router:
/// - `GET /status` (HTML) and `GET /v1/status-page` (JSON): the public status page — current state, uptime over
///   24 h / 7 d / 30 d / 90 d, the 90-day bar and recent incidents for `status_page.properties`;
/// - `GET /badge/{name}/state.svg`, `GET /badge/{name}/uptime.svg`: badges for a README;
/// - `GET /status/operator` (HTML), `GET /v1/overview` (JSON, every property), `GET /v1/properties/{name}/latency`
///   (`?hours=1…336`, default 24: hourly p50/p95 per phase), `GET /v1/incidents/{id}/timeline`,
///   `GET /v1/silences`: the operator's view, always behind the token.
///
/// The public ones need no token when `status_page.public` is true. Documented in `openapi/monitor.yaml`.
public enum StatusRoutes {
    public static func add(
        to router: Router<BasicRequestContext>,
        guarded: RouterGroup<BasicRequestContext>,
        monitor: MonitorService
    ) {
        let config = monitor.config
        guard let history = monitor.history ?? (monitor.store as? any HistoryStorage) else { return }
        let reader = StatusReader(config: config, storage: monitor.store, history: history)
        let now = monitor.now
        let open = config.statusPage.isPublic ? router.group() : guarded
        let shown = Set(reader.propertyNames(publicOnly: true))

        let logger = monitor.logger
        open.get("/v1/status-page") { _, _ in
            try await timed("/v1/status-page", logger: logger) {
                try await reader.summary(now: now(), publicOnly: true)
            } render: { summary in
                Response(
                    status: .ok,
                    headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try JSONReply<StatusSummary>.encode(summary)))
                )
            }
        }
        open.get("/status") { _, _ in
            try await timed("/status", logger: logger) {
                try await reader.summary(now: now(), publicOnly: true)
            } render: { summary in
                html(StatusPage.render(summary))
            }
        }
        open.get("/badge/:name/:kind") { _, context in
            let name = try context.parameters.require("name")
            let kind = try context.parameters.require("kind")
            guard shown.contains(name) else { throw HTTPError(.notFound, message: "unknown property \"\(name)\"") }
            guard let badge = Badge.Kind(rawValue: kind) else {
                throw HTTPError(.notFound, message: "unknown badge \"\(kind)\" (state.svg or uptime.svg)")
            }
            let summary = try await reader.summary(now: now(), publicOnly: true)
            guard let property = summary.properties.first(where: { $0.name == name }) else {
                throw HTTPError(.notFound, message: "unknown property \"\(name)\"")
            }
            return Response(
                status: .ok,
                headers: [.contentType: "image/svg+xml; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: Badge.render(badge, property)))
            )
        }

        guarded.get("/v1/overview") { _, _ in
            JSONReply(try await reader.summary(now: now(), publicOnly: false))
        }
        guarded.get("/v1/properties/:name/latency") { request, context in
            let name = try context.parameters.require("name")
            guard config.property(named: name) != nil else {
                throw HTTPError(.notFound, message: "unknown property \"\(name)\"")
            }
            var hours = 24
            if let text = request.uri.queryParameters["hours"] {
                guard let value = Int(String(text)), (1...336).contains(value) else {
                    throw HTTPError(.badRequest, message: "hours: must be an integer from 1 to 336")
                }
                hours = value
            }
            return JSONReply(try await reader.latency(property: name, hours: hours, now: now()))
        }
        guarded.get("/v1/incidents/:id/timeline") { _, context in
            let text = try context.parameters.require("id")
            guard let raw = Int64(text), raw > 0 else {
                throw HTTPError(
                    .badRequest,
                    message: "incident id: expected a positive integer, got \"\(text.prefix(32))\""
                )
            }
            guard let timeline = try await reader.timeline(IncidentID(raw), now: now()) else {
                throw HTTPError(.notFound, message: "unknown incident \(raw)")
            }
            return JSONReply(timeline)
        }
        guarded.get("/v1/silences") { _, _ in
            JSONReply(try await reader.silences(now: now()))
        }
        guarded.get("/status/operator") { _, _ in
            let at = now()
            let summary = try await reader.summary(now: at, publicOnly: false)
            var latency: [String: LatencyReport] = [:]
            for property in summary.properties {
                latency[property.name] = try await reader.latency(property: property.name, hours: 24, now: at)
            }
            var timelines: [IncidentTimeline] = []
            for incident in summary.incidents.prefix(10) {
                if let timeline = try await reader.timeline(incident.id, now: at) { timelines.append(timeline) }
            }
            let silences = try await reader.silences(now: at)
            return html(
                OperatorPage.render(summary: summary, latency: latency, timelines: timelines, silences: silences)
            )
        }
    }

    /// Reads, renders, and logs how long each took at debug level (`status.read_ms`, `status.render_ms`): where
    /// a page's server time goes, without a profiler.
    static func timed(
        _ path: String,
        logger: Logger,
        read: () async throws -> StatusSummary,
        render: (StatusSummary) throws -> Response
    ) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let summary = try await read()
        let readAt = clock.now
        let response = try render(summary)
        let end = clock.now
        logger.debug(
            "status page served",
            metadata: [
                "http.path": "\(path)",
                "status.read_ms": "\(milliseconds(readAt - start))",
                "status.render_ms": "\(milliseconds(end - readAt))",
            ]
        )
        return response
    }

    static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.2f", ms)
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-cache",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// A JSON answer with ISO 8601 dates and sorted keys, whatever the context's encoder.
struct JSONReply<Value: Encodable & Sendable>: ResponseGenerator {
    let value: Value
    init(_ value: Value) { self.value = value }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try Self.encode(value)))
        )
    }

    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}
