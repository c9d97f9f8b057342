import Foundation
import Testing
import ZumikTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The production bundles, signed at test time, run by the real agent against a real Docker engine
/// and a test compose stack. The manifests change only by string replacement: the compose path.
@Suite(
    .serialized,
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(
        if: DockerEngine.available,
        "no Docker engine: run under scripts/with-docker.sh (DOCKER_HOST set and `docker version` answering)"
    )
)
struct AgentDockerTests {
    func inspect(_ container: String, _ format: String) async throws -> String {
        try await DockerEngine.check(["inspect", "-f", format, container])
    }

    func productionBundles(composePath: String) throws -> [(name: String, manifest: String, plugin: String)] {
        try ["DockerActions", "NginxActions"].map { plugin in
            let manifest = try TestBundleFactory.productionManifest(named: plugin)
                .replacingOccurrences(of: "/srv/zumik/docker-compose.yml", with: composePath)
                .replacingOccurrences(of: "\"/usr/bin/docker\"", with: "\"\(DockerEngine.cliPath)\"")
            return (name: plugin, manifest: manifest, plugin: plugin)
        }
    }

    func runOK(_ agent: BinaryAgent, _ id: String) async throws -> [String: Any] {
        let response = try await agent.run(id, json: #"{"reason":"docker test","incident":"inc-docker"}"#)
        #expect(response.status == 200, "\(id): \(response.text)")
        let body = try response.json()
        #expect(body["outcome"] as? String == "succeeded", "\(id): \(response.text)")
        return body
    }

    @Test func productionActionsHaveRealEffects() async throws {
        let stack = try await TestStack.up()
        do {
            try await BinaryAgent.with(
                bundles: try productionBundles(composePath: stack.composePath),
                extraArguments: ["--docker-host", DockerEngine.host]
            ) { agent in
                let ids = try await agent.catalogIDs()
                for id in [
                    "restart_api_core", "recreate_api_core", "restart_all", "restart_gateway", "prune_docker",
                    "reload_nginx",
                ] {
                    #expect(ids.contains(id), "\(id) missing from \(ids)")
                }

                // Diagnostics read the stack (and the plugin reads the output).
                let states = try await runOK(agent, "docker_service_states")
                // Read by the bundle's reader in its helper process (a failed reader says so in "error").
                let reading = try #require(states["interpretation"] as? [String: Any])
                #expect(reading["error"] == nil, "\(reading)")
                #expect((reading["summary"] as? String)?.contains("api-core") == true, "\(reading)")
                #expect((states["stdout_tail"] as? String)?.contains("api-core") == true)

                // restart_api_core → a new start time, serving again.
                let startedBefore = try await inspect("api-core", "{{.State.StartedAt}}")
                _ = try await runOK(agent, "restart_api_core")
                #expect(try await inspect("api-core", "{{.State.StartedAt}}") != startedBefore)
                #expect(try await stack.eventuallyServes(port: stack.apiCorePort))

                // recreate_api_core → a new container.
                let idBefore = try await inspect("api-core", "{{.Id}}")
                _ = try await runOK(agent, "recreate_api_core")
                #expect(try await inspect("api-core", "{{.Id}}") != idBefore)
                #expect(try await stack.eventuallyServes(port: stack.apiCorePort))

                // restart_gateway → a new start time.
                let gatewayBefore = try await inspect("gateway", "{{.State.StartedAt}}")
                _ = try await runOK(agent, "restart_gateway")
                #expect(try await inspect("gateway", "{{.State.StartedAt}}") != gatewayBefore)
                #expect(try await stack.eventuallyServes(port: stack.gatewayPort))

                // reload_nginx → the edited config takes effect; the master process stays.
                let masterBefore = try await DockerEngine.check(["exec", "nginx", "cat", "/run/nginx.pid"])
                let nginxStarted = try await inspect("nginx", "{{.State.StartedAt}}")
                #expect(try await stack.eventuallyServes(port: stack.nginxPort, body: "v1\n"))
                try stack.writeSite(marker: "v2")
                let reload = try await runOK(agent, "reload_nginx")
                let reloadReading = try #require(reload["interpretation"] as? [String: Any])
                #expect((reloadReading["error"] as? String)?.hasPrefix("reader failed") != true, "\(reloadReading)")
                #expect(try await stack.eventuallyServes(port: stack.nginxPort, body: "v2\n"))
                #expect(try await DockerEngine.check(["exec", "nginx", "cat", "/run/nginx.pid"]) == masterBefore)
                #expect(try await inspect("nginx", "{{.State.StartedAt}}") == nginxStarted)

                // restart_all → every service restarted.
                let before = try await [
                    inspect("api-core", "{{.State.StartedAt}}"), inspect("gateway", "{{.State.StartedAt}}"),
                    inspect("nginx", "{{.State.StartedAt}}"),
                ]
                _ = try await runOK(agent, "restart_all")
                let after = try await [
                    inspect("api-core", "{{.State.StartedAt}}"), inspect("gateway", "{{.State.StartedAt}}"),
                    inspect("nginx", "{{.State.StartedAt}}"),
                ]
                for index in 0..<3 { #expect(after[index] != before[index]) }
                #expect(try await stack.eventuallyServes(port: stack.apiCorePort))

                // prune_docker → a stopped container is removed; the running stack is not.
                _ = try await DockerEngine.check([
                    "create", "--pull", "never", "--name", "zumik-prune-probe", "--network", "none",
                    "local/busybox:test",
                    "true",
                ])
                _ = try await runOK(agent, "prune_docker")
                let probe = try await DockerEngine.run(["inspect", "zumik-prune-probe"])
                #expect(probe.status != 0, "the stopped probe container survived prune")
                #expect(try await inspect("api-core", "{{.State.Running}}") == "true")

                // Cooldown: a second restart right away is refused with Retry-After.
                let again = try await agent.run("restart_api_core")
                #expect(again.status == 429)
                #expect(again.header("Retry-After").flatMap(Int.init) ?? 0 > 0)

                // The refusal is in the summary written when the agent stops.
                await agent.process.stop()
                let records = try agent.auditRecords()
                let outcomes = records.compactMap { $0["outcome"] as? String }
                #expect(outcomes.filter { $0 == "succeeded" }.count == 7)
                #expect(outcomes.filter { $0 == "started" }.count == 7)
                #expect(records.last?["refusals"] as? [String: Int] == ["limited": 1])
            }
        } catch {
            await stack.down()
            throw error
        }
        await stack.down()
    }
}
