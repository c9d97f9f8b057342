import Foundation
import Testing
import ZumikTestSupport

/// The real `zumik-monitor` and `zumik-ops-agent` (production bundles signed at test time), the fake
/// OpenAI and fake Discord on loopback. Scenarios whose property must come back need a real Docker
/// engine and the test compose stack; the others watch a closed loopback port, which stays down.
@Suite(
    .serialized,
    .enabled(if: MonitorProcess.binary != nil, "zumik-monitor is not built beside the test binary"),
    .enabled(if: AgentBinary.exists, "zumik-ops-agent is not built beside the test binary"),
    .enabled(if: Specs.isAvailable, "specs dir, python3 or python3-jsonschema missing")
)
struct RemediationEndToEndTests {
    /// Runs the scenario with the agent (production bundles), fake Discord, fake OpenAI and a temp dir.
    func scenario(
        script: [FakeOpenAI.Reply],
        composePath: String = "/nonexistent/compose.yaml",
        docker: Bool = false,
        _ body: @Sendable (BinaryAgent, FakeDiscord, FakeOpenAI, String, TempDir) async throws -> Void
    ) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let fake = FakeOpenAI(script: script)
        try await BinaryAgent.with(
            bundles: try EndToEnd.productionBundles(composePath: composePath),
            extraArguments: docker ? ["--docker-host", DockerEngine.host] : []
        ) { agent in
            try await fake.serve { modelURL in
                try await body(agent, discord, fake, modelURL, directory)
            }
        }
        #expect(await fake.schemaFailures() == [])
        #expect(discord.records.allSatisfy { $0.validationError == nil })
    }

    @Test("an unreachable agent: said in Discord and paged at once, the model never asked")
    func unreachableAgentPagesAtOnce() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let discord = try FakeDiscord()
        defer { discord.stop() }
        let fake = FakeOpenAI(script: [.call("restart_api_core", reason: "should never be asked")])
        try await fake.serve { modelURL in
            let config = try EndToEnd.writeConfig(
                in: directory,
                propertyURL: "http://127.0.0.1:\(try LoopbackServer.closedPort())/",
                modelURL: modelURL,
                settleSeconds: 1
            )
            let monitor = try MonitorProcess(
                config: config,
                environment: EndToEnd.environment(
                    agentURL: "http://127.0.0.1:\(try LoopbackServer.closedPort())",
                    discord: discord
                ),
                log: directory.file("monitor.log")
            )
            defer { monitor.terminate() }
            let paged = await discord.waitUntil(timeout: .seconds(60)) { EndToEnd.pages($0).count == 1 }
            #expect(paged, "no page; log:\n\(monitor.logText)")
            let page = try #require(EndToEnd.pages(discord.records).first)
            let content = page.json?["content"] as? String ?? ""
            #expect(content.hasPrefix("<@\(EndToEnd.alertUserID)>"))
            #expect(content.contains("unreachable"))
        }
        #expect(fake.received.isEmpty)
    }

    @Test("a tool outside the catalog runs nothing; the exhausted budget pages once")
    func outsideCatalogRunsNothing() async throws {
        try await scenario(script: [
            .call("rm_rf_root", reason: "clean the disk"),
            .call("restart_gateway", reason: "not offered for api-core"),
            .malformedArguments("restart_api_core"),
        ]) { agent, discord, fake, modelURL, directory in
            let config = try EndToEnd.writeConfig(
                in: directory,
                propertyURL: "http://127.0.0.1:\(try LoopbackServer.closedPort())/",
                modelURL: modelURL,
                settleSeconds: 1
            )
            let monitor = try MonitorProcess(
                config: config,
                environment: EndToEnd.environment(agentURL: "http://127.0.0.1:\(agent.port)", discord: discord),
                log: directory.file("monitor.log")
            )
            defer { monitor.terminate() }
            let paged = await discord.waitUntil(timeout: .seconds(60)) { EndToEnd.pages($0).count == 1 }
            #expect(paged, "no page; log:\n\(monitor.logText)")
            #expect(fake.received.count == 3)
            // The agent's audit log: no action was even requested.
            #expect(try agent.auditRecords().isEmpty)
            // The page goes ahead of narration, so the refusal notices may still be on their way.
            let refused = await discord.waitUntil(timeout: .seconds(30)) {
                EndToEnd.contents($0).filter { $0.contains("Refused the model") }.count >= 3
            }
            let refusals = EndToEnd.contents(discord.records).filter { $0.contains("Refused the model") }
            #expect(refused && refusals.count == 3)
        }
    }

    @Test("useless actions exhaust the budget: paged once, and a restarted monitor neither pages nor repeats")
    func uselessActionsPageOnceAcrossRestart() async throws {
        try await scenario(script: [
            .call("docker_disk_usage", reason: "Check the disk first."),
            .call("prune_docker", reason: "Free some space."),
        ]) { agent, discord, fake, modelURL, directory in
            let config = try EndToEnd.writeConfig(
                in: directory,
                propertyURL: "http://127.0.0.1:\(try LoopbackServer.closedPort())/",
                modelURL: modelURL,
                settleSeconds: 30
            )
            let env = EndToEnd.environment(agentURL: "http://127.0.0.1:\(agent.port)", discord: discord)
            let log = directory.file("monitor.log")
            // 1. Kill -9 during the settle wait after prune_docker ran.
            let first = try MonitorProcess(config: config, environment: env, log: log)
            let pruned = try await EndToEnd.eventually { try EndToEnd.ran(agent).contains("prune_docker") }
            #expect(pruned, "prune_docker never ran; log:\n\(first.logText)")
            first.kill9()

            // 2. Restart: the journal says prune_docker is done; the model repeats it (refused, a round),
            //    then keeps at it until the budget is spent: one page.
            fake.enqueue([
                .call("prune_docker", reason: "Prune again."),
                .call("prune_docker", reason: "And again."),
            ])
            let second = try MonitorProcess(config: config, environment: env, log: log)
            let paged = await discord.waitUntil(timeout: .seconds(90)) { EndToEnd.pages($0).count == 1 }
            #expect(paged, "no page; log:\n\(second.logText)")
            // Kill only once the page's delivery is committed: a kill between Discord's 2xx and that commit is
            // the documented at-least-once window (config/README.md), not what this test is about.
            let committed = try await EndToEnd.eventually(timeout: .seconds(30)) {
                second.logText.split(separator: "\n").contains {
                    $0.contains("alert delivered") && $0.contains("outbox.kind=page")
                }
            }
            #expect(committed, "the page's delivery was never committed; log:\n\(second.logText)")
            second.kill9()

            // 3. Restart once more: the incident is still open and down, and already paged. Its remediation
            //    lease was completed when the second monitor paged (issue 13), so the third does not run it again;
            //    had it been cut short instead, the journal's replay would say it was already paged.
            let third = try MonitorProcess(config: config, environment: env, log: log)
            let resumed = try await EndToEnd.eventually(timeout: .seconds(30)) {
                third.logText.components(separatedBy: "already paged").count > 1
                    || third.logText.components(separatedBy: "alreadyPaged").count > 1
                    || third.logText.components(separatedBy: "remediation held by another location, or done").count > 1
            }
            #expect(resumed, "the third monitor did not resume the incident; log:\n\(third.logText)")
            third.terminate()
            #expect(EndToEnd.pages(discord.records).count == 1)
            #expect(try EndToEnd.ran(agent).filter { $0 == "prune_docker" }.count == 1)
        }
    }

    @Test(
        "a stopped api-core is diagnosed, restarted by the model's call, re-probed healthy, closed, no page",
        .enabled(
            if: DockerEngine.available,
            "no Docker engine: run under scripts/with-docker.sh (DOCKER_HOST set and `docker version` answering)"
        )
    )
    func modelHealsStoppedAPICore() async throws {
        let stack = try await TestStack.up()
        do {
            try await healScenario(stack)
        } catch {
            await stack.down()
            throw error
        }
        await stack.down()
    }

    func healScenario(_ stack: TestStack) async throws {
        try await scenario(
            script: [
                .call("docker_service_states", reason: "See which containers run."),
                .call("restart_api_core", reason: "api-core has exited; restart it."),
            ],
            composePath: stack.composePath,
            docker: true
        ) { agent, discord, fake, modelURL, directory in
            _ = try await DockerEngine.check(["stop", "-t", "1", "api-core"])
            let config = try EndToEnd.writeConfig(
                in: directory,
                propertyURL: "http://127.0.0.1:\(stack.apiCorePort)/",
                modelURL: modelURL,
                settleSeconds: 1
            )
            let monitor = try MonitorProcess(
                config: config,
                environment: EndToEnd.environment(agentURL: "http://127.0.0.1:\(agent.port)", discord: discord),
                log: directory.file("monitor.log")
            )
            defer { monitor.terminate() }
            let healed = await discord.waitUntil(timeout: .seconds(90)) { records in
                EndToEnd.contents(records).contains { $0.contains("healthy again") }
            }
            #expect(healed, "not healed; log:\n\(monitor.logText)")
            // The healthy re-probe went through the monitor's state machine: the incident closed and the
            // recovery was announced (without a mention).
            let recovered = await discord.waitUntil(timeout: .seconds(30)) { records in
                records.contains { EndToEnd.embedTitles($0).contains { $0.contains("recovered") } }
            }
            #expect(recovered, "no recovery announced; log:\n\(monitor.logText)")
            #expect(try EndToEnd.ran(agent) == ["docker_service_states", "restart_api_core"])
            #expect(try await DockerEngine.check(["inspect", "-f", "{{.State.Running}}", "api-core"]) == "true")
            #expect(EndToEnd.pages(discord.records).isEmpty)
            #expect(fake.received.count == 2)
            // One outage, one story: the incident's message (created, then edited in place) and the recovery.
            let methods = discord.records.map(\.request.method)
            #expect(EndToEnd.posts(discord.records).count == 2, "\(methods)")
            #expect(methods.contains("PATCH"), "\(methods)")
        }
    }

    @Test(
        "the model API failing falls back to the ladder, which still heals",
        .enabled(
            if: DockerEngine.available,
            "no Docker engine: run under scripts/with-docker.sh (DOCKER_HOST set and `docker version` answering)"
        )
    )
    func ladderHealsWhenModelFails() async throws {
        let stack = try await TestStack.up()
        do {
            try await ladderScenario(stack)
        } catch {
            await stack.down()
            throw error
        }
        await stack.down()
    }

    func ladderScenario(_ stack: TestStack) async throws {
        try await scenario(
            script: [.status(500, #"{"error":{"message":"upstream down"}}"#)],
            composePath: stack.composePath,
            docker: true
        ) { agent, discord, _, modelURL, directory in
            _ = try await DockerEngine.check(["stop", "-t", "1", "api-core"])
            let config = try EndToEnd.writeConfig(
                in: directory,
                propertyURL: "http://127.0.0.1:\(stack.apiCorePort)/",
                modelURL: modelURL,
                settleSeconds: 1
            )
            let monitor = try MonitorProcess(
                config: config,
                environment: EndToEnd.environment(agentURL: "http://127.0.0.1:\(agent.port)", discord: discord),
                log: directory.file("monitor.log")
            )
            defer { monitor.terminate() }
            let healed = await discord.waitUntil(timeout: .seconds(90)) { records in
                EndToEnd.contents(records).contains { $0.contains("healthy again") }
            }
            #expect(healed, "not healed; log:\n\(monitor.logText)")
            // The healthy re-probe went through the monitor's state machine: the incident closed and the
            // recovery was announced (without a mention).
            let recovered = await discord.waitUntil(timeout: .seconds(30)) { records in
                records.contains { EndToEnd.embedTitles($0).contains { $0.contains("recovered") } }
            }
            #expect(recovered, "no recovery announced; log:\n\(monitor.logText)")
            #expect(EndToEnd.contents(discord.records).contains { $0.contains("ladder") })
            // The ladder reads api-core's diagnostics once (by rank, then id), then its narrowest fix heals it.
            #expect(
                try EndToEnd.ran(agent) == [
                    "api_core_logs", "docker_disk_usage", "docker_service_states", "restart_api_core",
                ]
            )
            #expect(EndToEnd.pages(discord.records).isEmpty)
            #expect(EndToEnd.posts(discord.records).count == 2, "\(discord.records.map(\.request.method))")
        }
    }
}
