import Foundation
import Hummingbird
import HummingbirdTesting
import Monitor
import Testing

/// A closed incident keeps saying how bad it was: the lists show its worst state, then "Resolved" (issue 14:
/// main showed only "✔ Resolved", whatever the incident reached).
@Suite struct IncidentWorstStateTests {
    /// The fixture's incident went down and recovered: closed, its worst state down.
    @Test func aClosedIncidentShowsItsWorstStateAndResolved() async throws {
        let f = try await StatusRoutesTests.fixture(isPublic: true)
        let auth: HTTPFields = [.authorization: "Bearer \(StatusRoutesTests.token)"]
        try await Application(router: f.router).test(.router) { client in
            try await client.execute(uri: "/status", method: .get) { response in
                let html = String(buffer: response.body)
                let row = try #require(
                    html.components(separatedBy: "<tr data-incident=\"\(f.incident.id.rawValue)\"").dropFirst().first?
                        .components(separatedBy: "</tr>").first
                )
                #expect(row.contains("</span> Down</span>"), "the worst state as symbol and word: \(row)")
                #expect(row.contains("</span> Resolved</span>"), "and that it is over: \(row)")
                #expect(row.contains("data-worst=\"down\""))
            }
            try await client.execute(uri: "/status/operator", method: .get, headers: auth) { response in
                let html = String(buffer: response.body)
                let heading = try #require(
                    html.components(separatedBy: "<h3 id=\"i-\(f.incident.id.rawValue)\">").dropFirst().first?
                        .components(separatedBy: "</h3>").first
                )
                #expect(heading.contains("</span> Down</span>") && heading.contains("</span> Resolved</span>"))
            }
            try await client.execute(uri: "/v1/status-page", method: .get) { response in
                let body = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                )
                let incidents = try #require(body["incidents"] as? [[String: Any]])
                #expect(incidents.first?["health"] as? String == "healthy", "its state now")
                #expect(incidents.first?["worst"] as? String == "down", "the worst it reached")
            }
            let id = f.incident.id.rawValue
            try await client.execute(uri: "/v1/incidents/\(id)/timeline", method: .get, headers: auth) { response in
                let body = try #require(
                    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                )
                let incident = try #require(body["incident"] as? [String: Any])
                #expect(incident["worst"] as? String == "down")
            }
        }
        withExtendedLifetime(f.dir) {}
    }
}
