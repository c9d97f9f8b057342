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

    @Test("the target broken for all: one incident, one DOWN alert, one remediation, at most one page")
    func brokenTargetIsHealedOnce() async throws {
        try await FleetScenario.run { world in
            try world.start(["a", "b", "c"])
            #expect(try await world.waitUntilLive(["a", "b", "c"]), "\(world.logs())")
            world.breakTarget()
            let recovered = await world.discord.waitUntil(timeout: .seconds(120)) {
                FleetPosts($0).recoveries >= 1
            }
            #expect(recovered, "no recovery; \(FleetPosts(world.discord.records))\n\(world.logs())")
            // A few cycles more, for any duplicate to show.
            try await Task.sleep(for: .seconds(3 * FleetScenario.interval))
            let posts = FleetPosts(world.discord.records)
            #expect(posts.incidentMessages == 1, "\(posts)")
            #expect(posts.recoveries == 1, "\(posts)")
            #expect(posts.pages <= 1, "\(posts)")
            #expect(posts.advisories.isEmpty && posts.clearings.isEmpty, "\(posts)")
            #expect(posts.other.isEmpty, "\(posts)")
            #expect(try world.sql("SELECT count(*) FROM incidents") == ["1"])
            #expect(try world.sql("SELECT count(*) FROM incidents WHERE paged_at IS NOT NULL") == ["0"])
            // One remediation: the ladder's steps, each run once, across the fleet.
            let ran = try EndToEnd.ran(world.agent)
            #expect(ran == ["inspect_target", "a_reload_target", "fix_target"], "\(ran)\n\(world.logs())")
            #expect(try world.sql("SELECT count(*) FROM incident_leases") == ["1"])
        }
    }

    @Test("kill -9 of the remediating location: another resumes within lease + interval, repeats nothing")
    func remediatorKilledMidIncidentIsTakenOver() async throws {
        try await FleetScenario.run(settleSeconds: 8) { world in
            try world.start(["a", "b", "c"])
            #expect(try await world.waitUntilLive(["a", "b", "c"]), "\(world.logs())")
            world.breakTarget()
            // The holder ran the diagnostic and the first remediation and now waits out its settle time.
            let first = try await EndToEnd.eventually(timeout: .seconds(90)) {
                try EndToEnd.ran(world.agent).contains("a_reload_target")
            }
            #expect(first, "a_reload_target never ran; \(world.logs())")
            let holder = try #require(try world.sql("SELECT holder FROM incident_leases").first)
            let killedAt = ContinuousClock.now
            world.monitors[holder]?.kill9()

            let takenOver = try await EndToEnd.eventually(timeout: .seconds(60)) {
                let now = try world.sql("SELECT holder FROM incident_leases").first
                return now != nil && now != holder
            }
            let takeover = ContinuousClock.now - killedAt
            let newHolder = try world.sql("SELECT holder || ' token ' || token FROM incident_leases")
            #expect(takenOver, "no takeover from \(holder); \(world.logs())")
            print("fleet takeover: \(holder) killed → \(newHolder) after \(takeover)")
            // Lease + one look-around interval, and the 200 ms polling and a loaded machine's slack.
            #expect(takeover < .seconds(FleetScenario.lease + FleetScenario.interval + 3), "\(takeover)")

            let recovered = await world.discord.waitUntil(timeout: .seconds(120)) {
                FleetPosts($0).recoveries >= 1
            }
            #expect(recovered, "no recovery; \(FleetPosts(world.discord.records))\n\(world.logs())")
            try await Task.sleep(for: .seconds(3 * FleetScenario.interval))
            // Nothing done twice: the taken-over remediation went on from the journal.
            let ran = try EndToEnd.ran(world.agent)
            #expect(ran == ["inspect_target", "a_reload_target", "fix_target"], "\(ran)\n\(world.logs())")
            let posts = FleetPosts(world.discord.records)
            #expect(posts.pages == 0, "\(posts)")
            #expect(posts.incidentMessages == 1 && posts.recoveries == 1, "\(posts)")
            #expect(try world.sql("SELECT count(*) FROM incidents") == ["1"])
        }
    }

    @Test("PostgreSQL restarted while the target breaks: the fleet's one alert is neither lost nor duplicated")
    func postgresRestartMidRunLosesAndDuplicatesNoAlert() async throws {
        try await FleetScenario.run { world in
            try world.start(["a", "b", "c"])
            #expect(try await world.waitUntilLive(["a", "b", "c"]), "\(world.logs())")
            // The database goes away; every location keeps probing and says so once, straight to the webhook.
            try world.postgres.stop(mode: "fast")
            let degraded = await world.discord.waitUntil(timeout: .seconds(60)) { FleetPosts($0).degraded == 3 }
            #expect(degraded, "\(FleetPosts(world.discord.records))\n\(world.logs())")
            // The target breaks while nothing can be recorded: no location may alert on its own.
            world.breakTarget()
            try await Task.sleep(for: .seconds(3 * FleetScenario.interval))
            var posts = FleetPosts(world.discord.records)
            #expect(posts.incidentMessages == 0 && posts.pages == 0 && posts.advisories.isEmpty, "\(posts)")
            #expect(try EndToEnd.ran(world.agent).isEmpty)

            // The database returns: the outage is recorded once, alerted once, healed once.
            try world.postgres.start(retryingFor: 30)
            let recovered = await world.discord.waitUntil(timeout: .seconds(120)) {
                let posts = FleetPosts($0)
                return posts.recoveries >= 1 && posts.restored == 3
            }
            #expect(recovered, "\(FleetPosts(world.discord.records))\n\(world.logs())")
            // Past the time the locations wait before judging one another silent, and a live window more.
            try await Task.sleep(for: .seconds(FleetScenario.settleAfterOutage + 3 * FleetScenario.interval))
            posts = FleetPosts(world.discord.records)
            #expect(posts.degraded == 3 && posts.restored == 3, "\(posts)")
            #expect(posts.incidentMessages == 1 && posts.recoveries == 1 && posts.pages == 0, "\(posts)")
            #expect(posts.advisories.isEmpty && posts.clearings.isEmpty, "\(posts)")
            // No location announced silent and back for the outage's sake (every heartbeat was stale when the
            // database returned; each location waits until all could beat: `locationSettleAfterOutage`).
            #expect(posts.other.isEmpty, "\(posts)")
            #expect(try world.sql("SELECT count(*) FROM incidents") == ["1"])
            let ran = try EndToEnd.ran(world.agent)
            #expect(ran == ["inspect_target", "a_reload_target", "fix_target"], "\(ran)\n\(world.logs())")
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
