import ActionKit
import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import Probing
public import Prometheus

/// The control API (Hummingbird):
/// - `GET /healthz` (open): `{"status":"ok","pager":{…},"store":{…}}`, or 503 with `"status":"store_unreachable"`
///   and `"problem":"store unreachable since … (kind)"` while the store does not answer (``StoreHealth``; it
///   comes first: monitoring itself is degraded), or `"pager_broken"` while Discord refuses delivery
///   (``PagerHealth``);
/// - `GET /v1/status`: every property's state, last probe timings, open incident;
/// - `POST /v1/check`: run a cycle now, answer its results;
/// - `POST /v1/properties/{name}/silence` with `{"until": "<ISO 8601>"}`, `DELETE` to unsilence;
/// - `POST /v1/outbox/retry` with optional `{"ids": [N, …]}`: queue parked messages again (all without ids)
///   and wake the sender; answers `{"requeued": [N, …]}`;
/// - `GET /metrics`: Prometheus text.
///
/// Every refusal is an RFC 9457 problem document (``ControlProblem``: `application/problem+json`, a `type` per
/// kind: `bad-token`, `unknown-property`, `not-found`, `method-not-allowed`, `bad-request`, `internal-error`),
/// keeping the `{"error":{"message":…}}` member. `openapi/monitor.yaml` describes the API.
///
/// Every route but `/healthz` needs `Authorization: Bearer <CONTROL_TOKEN>` (compared in constant time);
/// `/metrics` also takes `METRICS_TOKEN`, a read-only credential refused everywhere else.
/// Without `CONTROL_TOKEN` the API is unauthenticated and therefore may only listen on a loopback address
/// (`ControlAPI.checkListenAddress` refuses anything else at startup).
public enum ControlAPI {
    public static func router(
        monitor: MonitorService,
        token: Secret?,
        registry: PrometheusCollectorRegistry,
        refresh: @escaping @Sendable () -> Void = {}
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("/healthz") { _, _ in
            let health = Health_(pager: monitor.pager.report, store: monitor.storeHealth.report)
            return EditedResponse(status: health.status == "ok" ? .ok : .serviceUnavailable, response: health)
        }
        let guarded = router.group().add(middleware: BearerAuth(token: token))
        StatusRoutes.add(to: router, guarded: guarded, monitor: monitor)
        guarded.get("/v1/status") { _, _ in
            try await monitor.status()
        }
        guarded.post("/v1/check") { _, _ in
            CheckReport(results: await monitor.checkNow())
        }
        guarded.post("/v1/properties/:name/silence") { request, context in
            let name = try context.parameters.require("name")
            guard monitor.config.property(named: name) != nil else {
                throw ControlProblem(.unknownProperty, .notFound, "unknown property \"\(name)\"")
            }
            let body: SilenceRequest
            do {
                body = try await request.decode(as: SilenceRequest.self, context: context)
            } catch {
                throw HTTPError(.badRequest, message: "body must be {\"until\": \"<ISO 8601 date-time>\"}")
            }
            guard let until = parseISO8601(body.until) else {
                throw HTTPError(.badRequest, message: "until: not an ISO 8601 date-time: \"\(body.until.prefix(64))\"")
            }
            guard until > Date() else { throw HTTPError(.badRequest, message: "until: must be in the future") }
            try await monitor.silence(name, until: until)
            return SilenceReply(name: name, silencedUntil: until)
        }
        guarded.delete("/v1/properties/:name/silence") { _, context in
            let name = try context.parameters.require("name")
            guard monitor.config.property(named: name) != nil else {
                throw ControlProblem(.unknownProperty, .notFound, "unknown property \"\(name)\"")
            }
            await monitor.unsilence(name)
            return SilenceReply(name: name, silencedUntil: nil)
        }
        guarded.post("/v1/outbox/retry") { request, context in
            var ids: [Int64]?
            if request.headers[.contentLength].map({ $0 != "0" }) ?? false {
                do {
                    ids = try await request.decode(as: RetryRequest.self, context: context).ids
                } catch {
                    throw HTTPError(.badRequest, message: "body must be empty or {\"ids\": [outbox row ids]}")
                }
            }
            let requeued = try await monitor.store.requeueFailed(ids, now: Date())
            monitor.outbox.wake()
            return RetryReply(requeued: requeued)
        }
        // CONTROL_TOKEN or the read-only METRICS_TOKEN, which opens nothing else.
        let scrape = router.group().add(
            middleware: BearerAuth(token: token, alsoAccepted: monitor.config.secrets.metricsToken)
        )
        scrape.get("/metrics") { _, _ in
            refresh()
            // The registry's families, then the per-property ones (``SeriesCollector``).
            var exposition = registry.emitToBuffer()
            monitor.metrics.series.emit(into: &exposition)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: exposition))
            )
        }
        return router
    }

    /// Refuses a non-loopback listen address when no token is configured.
    public static func checkListenAddress(host: String, token: Secret?) throws(ConfigError) {
        guard token == nil else { return }
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        if !loopback {
            throw ConfigError(
                file: "environment",
                path: "CONTROL_TOKEN",
                problem: "required when control.listen is not a loopback address (\(host))"
            )
        }
    }

    static func parseISO8601(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    struct Health_: ResponseEncodable {
        var status: String
        /// What is wrong, in words (nil when `ok`).
        var problem: String?
        var pager: PagerHealth.Report
        var store: StoreHealth.Report

        init(pager: PagerHealth.Report, store: StoreHealth.Report) {
            self.pager = pager
            self.store = store
            if let problem = store.problem {
                (status, self.problem) = ("store_unreachable", problem)
            } else if pager.isBroken {
                (status, self.problem) = ("pager_broken", pager.error ?? "the pager is broken")
            } else {
                (status, problem) = ("ok", nil)
            }
        }
    }

    struct CheckReport: ResponseEncodable { var results: [ProbeResult] }

    struct SilenceRequest: Decodable { var until: String }

    struct RetryRequest: Decodable { var ids: [Int64]? }

    struct RetryReply: ResponseEncodable { var requeued: [Int64] }

    struct SilenceReply: ResponseEncodable {
        var name: String
        var silencedUntil: Date?
        enum CodingKeys: String, CodingKey {
            case name
            case silencedUntil = "silenced_until"
        }
    }
}

extension StatusReport: ResponseEncodable {}

/// `Authorization: Bearer <token>` (or `alsoAccepted`), compared in constant time. A nil token lets everything
/// through (the API is then bound to loopback only).
struct BearerAuth<Context: RequestContext>: RouterMiddleware {
    let token: Secret?
    var alsoAccepted: Secret? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let token else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        let presented = Array(header.utf8.dropFirst(prefix.utf8.count))
        let accepted = [token] + (alsoAccepted.map { [$0] } ?? [])
        guard header.hasPrefix(prefix),
            accepted.contains(where: { ConstantTime.equal(presented, Array($0.value.utf8)) })
        else {
            throw HTTPError(
                .unauthorized,
                headers: [.wwwAuthenticate: "Bearer"],
                message: "missing or wrong bearer token"
            )
        }
        return try await next(request, context)
    }

}
