import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 13's "done when", with real processes in real network namespaces: three `zumik-monitor` locations
/// (each in its own namespace, `store: postgres`) on one PostgreSQL 15, probing one target, healing through
/// the real `zumik-ops-agent`, alerting through the Discord stand-in (``FleetScenario``).
@Suite(
    .serialized,
    .enabled(if: FleetScenario.unavailableReason == nil, "\(FleetScenario.unavailableReason ?? "")")
)
struct FleetNetnsTests {
    @Test("one location's route to the target cut: no incident, one advisory naming it, one clearing")
    func oneLocationCutOffPostsOneAdvisory() async throws {
        try await FleetScenario.run { world in
            try world.start(["a", "b", "c"])
            #expect(try await world.waitUntilLive(["a", "b", "c"]), "\(world.logs())")
            try world.fleet.cutTarget(of: world.location("b"))
            let advised = await world.discord.waitUntil(timeout: .seconds(60)) {
                FleetPosts($0).advisories.count == 1
            }
            #expect(advised, "no advisory; \(FleetPosts(world.discord.records))\n\(world.logs())")
            // The other locations keep probing a healthy target for a few cycles: still no incident.
            try await Task.sleep(for: .seconds(3 * FleetScenario.interval))
            try world.fleet.restoreTarget(of: world.location("b"))
            let cleared = await world.discord.waitUntil(timeout: .seconds(60)) {
                FleetPosts($0).clearings.count == 1
            }
            #expect(cleared, "no clearing; \(FleetPosts(world.discord.records))\n\(world.logs())")
            // Some cycles after the clearing: nothing more arrives.
            try await Task.sleep(for: .seconds(3 * FleetScenario.interval))
            let posts = FleetPosts(world.discord.records)
            #expect(posts.advisories.count == 1 && posts.advisories[0].contains("b sees it DOWN"), "\(posts)")
            #expect(posts.clearings.count == 1 && posts.clearings[0].contains("b sees it healthy again"), "\(posts)")
            #expect(posts.incidentMessages == 0 && posts.pages == 0 && posts.recoveries == 0, "\(posts)")
            #expect(posts.other.isEmpty, "\(posts)")
            #expect(try world.sql("SELECT count(*) FROM incidents") == ["0"])
            #expect(try EndToEnd.ran(world.agent).isEmpty)
        }
    }

    @Test("two locations started at once on an empty database migrate once, and both run")
    func twoLocationsStartedTogetherMigrateOnce() async throws {
        try await FleetScenario.run { world in
            try world.start(["a", "b"])
            #expect(try await world.waitUntilLive(["a", "b"]), "\(world.logs())")
            let versions = try world.sql("SELECT version FROM schema_migrations ORDER BY version").compactMap {
                Int($0)
            }
            // Every version once (the primary key would refuse a second row: then a monitor would have failed).
            #expect(!versions.isEmpty && versions == Array(1...versions.count), "\(versions)")
            // All applied by one transaction (`now()` is its start): one instance migrated, the other found it done.
            #expect(try world.sql("SELECT count(DISTINCT applied_at) FROM schema_migrations") == ["1"])
            // Both keep running and recording.
            #expect(world.monitors.values.allSatisfy { $0.process.isRunning }, "\(world.logs())")
            let before = try world.sql("SELECT name || ' ' || last_seen FROM locations ORDER BY name")
            let renewed = try await EndToEnd.eventually(timeout: .seconds(30)) {
                let now = try world.sql("SELECT name || ' ' || last_seen FROM locations ORDER BY name")
                return now.count == 2 && Set(now).isDisjoint(with: before)
            }
            #expect(renewed, "\(before)\n\(world.logs())")
            #expect(!world.logs().contains("migration failed"), "\(world.logs())")
        }
    }
}
