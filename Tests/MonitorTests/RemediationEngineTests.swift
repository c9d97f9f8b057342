import ActionKit
import Foundation
import Monitor
import Probing
import Remediation
import Testing
import ZumikTestSupport

@Suite("Remediation engine")
struct RemediationEngineTests {
    @Test("the model diagnoses, restarts api-core, the re-probe is healthy: healed without a page")
    func modelHeals() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        let fake = FakeOpenAI(script: [
            .call("inspect_api_core", reason: "See why api-core is down."),
            .call("restart_api_core", reason: "The container exited; restart it."),
        ])
        let store = try await TestJournal()
        defer { store.remove() }
        let clock = ImmediateClock()
        let outcome = try await remediate(world, model: fake, journal: store.journal, clock: clock)
        #expect(outcome == .healed(path: .model, rounds: 1))
        #expect(world.runs == ["inspect_api_core", "restart_api_core"])
        #expect(world.reasons == ["See why api-core is down.", "The container exited; restart it."])
        #expect(world.incidents == [testIncident.id.description, testIncident.id.description])
        #expect(clock.sleeps == [.seconds(20)])

        let entries = try await store.journal.entries(for: testIncident.id)
        let restart = try #require(entries.first { $0.kind == .action && $0.tool == "restart_api_core" })
        #expect(restart.modelRequestID == "chatcmpl-fake-2 req_fake_2")
        #expect(restart.reason == "The container exited; restart it.")
        #expect(entries.contains { $0.kind == .actionResult && $0.auditID == "audit-2" })
        #expect(entries.contains { $0.kind == .reprobe && $0.reprobe == "healthy (HTTP 200)" })
        #expect(entries.last?.kind == .healed)
        #expect(!entries.contains { $0.kind == .paged })

        let notices = try store.notices()
        #expect(notices.allSatisfy { $0.mention == nil })
        #expect(notices.contains { $0.content.contains("restart_api_core") && $0.content.contains("restart it") })
        #expect(notices.last?.content.contains("healthy again") == true)

        // What the model was sent: strict tools for api-core only, plus escalate_to_human.
        #expect(fake.received.count == 2)
        let first = try #require(fake.received.first?.json)
        #expect(fake.received.first?.authorization == "Bearer sk-test-key")
        #expect(first["tool_choice"] as? String == "required")
        #expect(first["parallel_tool_calls"] as? Bool == false)
        #expect(first["max_completion_tokens"] as? Int == 800)
        let tools = try #require(first["tools"] as? [[String: Any]])
        let names = tools.compactMap { ($0["function"] as? [String: Any])?["name"] as? String }
        let expectedNames: Set<String> = [
            "inspect_api_core", "restart_api_core", "recreate_api_core", "restart_all", "escalate_to_human",
        ]
        #expect(Set(names) == expectedNames)
        #expect(tools.allSatisfy { ($0["function"] as? [String: Any])?["strict"] as? Bool == true })

        // The diagnostic's output came back framed as untrusted data, the injected tag neutralised.
        let second = try #require(fake.received.last?.json)
        let messages = try #require(second["messages"] as? [[String: Any]])
        let toolMessage = try #require(messages.first { $0["role"] as? String == "tool" })
        let text = try #require(toolMessage["content"] as? String)
        #expect(text.contains("<untrusted-output>"))
        #expect(text.components(separatedBy: "</untrusted-output>").count == 2)
        #expect(text.contains("[tag removed]"))
        #expect(!text.contains("\u{1B}"))
        #expect(await fake.schemaFailures() == [])
    }

    @Test("a model that keeps choosing useless actions exhausts the budget and pages once")
    func uselessActionsPageOnce() async throws {
        let world = FakeWorld(healingAction: "recreate_api_core")
        let fake = FakeOpenAI(script: [
            .call("restart_api_core", reason: "Restart first."),
            .call("restart_all", reason: "Restart everything."),
            .call("inspect_api_core", reason: "Look again."),
            .call("restart_api_core", reason: "Once more."),
            .call("recreate_api_core", reason: "Too late."),
        ])
        let store = try await TestJournal()
        defer { store.remove() }
        let clock = ImmediateClock()
        let (outcome, again) = try await world.serveAgent { agentURL in
            try await fake.serve { modelURL in
                let engine = makeEngine(
                    agentURL: agentURL,
                    modelURL: modelURL,
                    journal: store.journal,
                    world: world,
                    clock: clock
                )
                let outcome = await engine.respond(to: testIncident)
                return (outcome, await engine.respond(to: testIncident))
            }
        }
        guard case .paged(let reason) = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        #expect(reason.contains("exhausted"))
        #expect(again == .alreadyPaged)
        // Two remediations ran; the repeated restart was refused (already ran) and cost the third round.
        #expect(world.runs == ["restart_api_core", "restart_all", "inspect_api_core"])
        #expect(fake.received.count == 4)
        let pages = try store.notices().filter { $0.mention != nil }
        #expect(pages.count == 1)
        let page = try #require(pages.first)
        #expect(page.content.hasPrefix("<@123456789012345678> "))
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(page.payload)) as? [String: Any])
        let mentions = try #require(payload["allowed_mentions"] as? [String: Any])
        #expect(mentions["parse"] as? [String] == [])
        #expect(mentions["users"] as? [String] == ["123456789012345678"])
        let entries = try await store.journal.entries(for: testIncident.id)
        #expect(entries.filter { $0.kind == .paged }.count == 1)
        #expect(entries.filter { $0.kind == .violation }.count == 1)
        #expect(await fake.schemaFailures() == [])
    }

    @Test("calls outside the leash run nothing and each costs a round")
    func leashViolationsRunNothing() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        let fake = FakeOpenAI(script: [
            .call("rm_rf_everything", reason: "Clean up."),
            .call("reload_nginx", reason: "Not offered for api-core."),
            .malformedArguments("restart_api_core"),
        ])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, model: fake, journal: store.journal)
        guard case .paged = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        #expect(world.runs == [])
        let violations = try await store.journal.entries(for: testIncident.id).filter { $0.kind == .violation }
        #expect(violations.map(\.tool) == ["rm_rf_everything", "reload_nginx", "restart_api_core"])
        #expect(violations.allSatisfy { $0.roundCost == 1 && $0.modelRequestID != nil })
        #expect(fake.received.count == 3)
        // The refusal went back to the model as the tool result of that call.
        let last = try #require(fake.received.last?.json?["messages"] as? [[String: Any]])
        #expect(last.contains { ($0["content"] as? String)?.contains("not in the offered catalog") == true })
        #expect(await fake.schemaFailures() == [])
    }

    @Test("text-only replies and parallel tool calls are refused and spend the budget")
    func noToolCallAndParallelCalls() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        let fake = FakeOpenAI(script: [
            .text("I think you should restart it."),
            .toolCalls([
                .init(name: "inspect_api_core", arguments: #"{"reason":"look"}"#),
                .init(name: "restart_api_core", arguments: #"{"reason":"sneak a second call"}"#),
            ]),
            .text("Still no tool."),
            .text("And again."),
        ])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, model: fake, journal: store.journal)
        guard case .paged = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        // Only the first call of the parallel reply ran (a diagnostic); the second was refused.
        #expect(world.runs == ["inspect_api_core"])
        let violations = try await store.journal.entries(for: testIncident.id).filter { $0.kind == .violation }
        #expect(violations.count == 3)
        #expect(fake.received.count == 3)
        #expect(await fake.schemaFailures() == [])
    }

    @Test("the model escalating pages the human at once")
    func modelEscalates() async throws {
        let world = FakeWorld(healingAction: nil)
        let fake = FakeOpenAI(script: [.call("escalate_to_human", reason: "Disk is full; no action offered frees it.")])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, model: fake, journal: store.journal)
        #expect(outcome == .paged(reason: "the model escalated: Disk is full; no action offered frees it."))
        #expect(world.runs == [])
        #expect(try store.notices().filter { $0.mention != nil }.count == 1)
    }

    @Test("an unreachable agent pages at once and never asks the model")
    func unreachableAgentPagesAtOnce() async throws {
        let world = FakeWorld(healingAction: "restart_api_core")
        let fake = FakeOpenAI(script: [.call("restart_api_core", reason: "x")])
        let store = try await TestJournal()
        defer { store.remove() }
        let port = closedLoopbackPort()
        let outcome = try await fake.serve { modelURL in
            await makeEngine(
                agentURL: "http://127.0.0.1:\(port)",
                modelURL: modelURL,
                journal: store.journal,
                world: world,
                clock: ImmediateClock()
            )
            .respond(to: testIncident)
        }
        guard case .paged(let reason) = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        #expect(reason.contains("unreachable"))
        #expect(fake.received.isEmpty)
        let notices = try store.notices()
        #expect(notices.filter { $0.mention != nil }.count == 1)
        #expect(notices.last?.content.contains("unreachable") == true)
    }

    @Test(
        "a failing model API falls back to the ladder, which heals by rank",
        arguments: [
            FakeOpenAI.Reply.status(500, #"{"error":{"message":"boom"}}"#),
            .status(429, #"{"error":{"message":"slow down"}}"#),
            .garbage("<html>not json</html>"),
        ]
    )
    func modelFailureFallsBackToLadder(failure: FakeOpenAI.Reply) async throws {
        let world = FakeWorld(healingAction: "recreate_api_core")
        let fake = FakeOpenAI(script: [failure])
        let store = try await TestJournal()
        defer { store.remove() }
        let clock = ImmediateClock()
        let outcome = try await remediate(world, model: fake, journal: store.journal, clock: clock)
        #expect(outcome == .healed(path: .ladder, rounds: 2))
        #expect(world.runs == ["inspect_api_core", "restart_api_core", "recreate_api_core"])
        #expect(clock.sleeps == [.seconds(20), .seconds(20)])
        let entries = try await store.journal.entries(for: testIncident.id)
        #expect(entries.contains { $0.kind == .modelFailed })
        #expect(entries.filter { $0.kind == .action }.allSatisfy { $0.path == .ladder })
        let notices = try store.notices()
        #expect(notices.contains { $0.content.contains("ladder") })
        #expect(notices.allSatisfy { $0.mention == nil })
        #expect(await fake.schemaFailures() == [])
    }

    @Test("without a model key the ladder runs remediations by rank and pages when exhausted")
    func ladderWithoutKey() async throws {
        let world = FakeWorld(healingAction: nil)
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, journal: store.journal, maxRounds: 2)
        guard case .paged(let reason) = outcome else {
            Issue.record("expected a page, got \(outcome)")
            return
        }
        #expect(reason.contains("exhausted"))
        // reload_nginx has the lowest rank but does not target api-core; the budget stops at 2.
        #expect(world.runs == ["inspect_api_core", "restart_api_core", "recreate_api_core"])
    }

    @Test("a refused run (lock busy) spends the round, runs nothing, and the ladder moves on")
    func refusedRunMovesOn() async throws {
        let world = FakeWorld(healingAction: "recreate_api_core", refusals: ["restart_api_core": 409])
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await remediate(world, journal: store.journal)
        #expect(outcome == .healed(path: .ladder, rounds: 2))
        #expect(world.runs == ["inspect_api_core", "recreate_api_core"])
        let results = try await store.journal.entries(for: testIncident.id).filter { $0.kind == .actionResult }
        #expect(results.first { $0.tool == "restart_api_core" }?.result?.contains("409") == true)
    }

    @Test("after a restart the journal is honoured: no repeated remediation, no second page")
    func resumeFromJournal() async throws {
        let world = FakeWorld(healingAction: "recreate_api_core")
        let store = try await TestJournal()
        defer { store.remove() }
        // A monitor that crashed right after sending restart_api_core (no result written).
        try await store.journal.append(
            .init(incidentID: testIncident.id, kind: .started, result: "started (ladder path)"),
            notice: nil
        )
        try await store.journal.append(
            .init(
                incidentID: testIncident.id,
                kind: .action,
                path: .ladder,
                tool: "restart_api_core",
                actionKind: .remediation,
                reason: "ladder",
                roundCost: 1
            ),
            notice: nil
        )
        let (outcome, again) = try await world.serveAgent { agentURL in
            let restarted = makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: try store.reopened(),
                world: world,
                clock: ImmediateClock(),
                maxRounds: 2
            )
            let outcome = await restarted.respond(to: testIncident)
            // Handed the same incident again (before the monitor saw the recovery): nothing runs.
            return (outcome, await restarted.respond(to: testIncident))
        }
        #expect(outcome == .healed(path: .ladder, rounds: 2))
        // The read-only diagnostic was not in the journal yet, so it is read; restart_api_core is not repeated.
        #expect(world.runs == ["inspect_api_core", "recreate_api_core"])
        #expect(again == .healed(path: .ladder, rounds: 2))
        let notices = try store.notices()
        #expect(notices.first?.content.contains("resumed") == true)
    }

    @Test("a page survives a restart: the reopened journal never pages the incident again")
    func noSecondPageAcrossRestart() async throws {
        let world = FakeWorld(healingAction: nil)
        let store = try await TestJournal()
        defer { store.remove() }
        let port = closedLoopbackPort()
        let first = await makeEngine(
            agentURL: "http://127.0.0.1:\(port)",
            modelURL: nil,
            journal: store.journal,
            world: world,
            clock: ImmediateClock()
        )
        .respond(to: testIncident)
        let second = await makeEngine(
            agentURL: "http://127.0.0.1:\(port)",
            modelURL: nil,
            journal: try store.reopened(),
            world: world,
            clock: ImmediateClock()
        )
        .respond(to: testIncident)
        guard case .paged = first else {
            Issue.record("expected a page, got \(first)")
            return
        }
        #expect(second == .alreadyPaged)
        #expect(try store.notices().filter { $0.mention != nil }.count == 1)
    }

    @Test("two incidents on one host never remediate at the same time")
    func oneRemediationPerHost() async throws {
        let world = FakeWorld(healingAction: "restart_api_core", runDelay: .milliseconds(200))
        let store = try await TestJournal()
        defer { store.remove() }
        let outcomes = try await world.serveAgent { agentURL in
            let engine = makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: store.journal,
                world: world,
                clock: ImmediateClock()
            )
            var other = testIncident
            other.property = "api.zumik.ai/v2"
            other.id = try await store.openIncident(property: other.property)
            async let a = engine.respond(to: testIncident)
            async let b = engine.respond(to: other)
            return await [a, b]
        }
        #expect(world.maxInFlight == 1)
        // The second incident finds the service healthy after the first one's fix and runs nothing.
        #expect(world.runs == ["inspect_api_core", "restart_api_core"])
        #expect(outcomes.contains(.healed(path: .ladder, rounds: 1)))
        #expect(outcomes.contains(.recoveredWithoutAction))
    }

    @Test("a shutdown in the middle of a run pages nobody and leaves the journal to resume from")
    func cancelledMidRun() async throws {
        let world = FakeWorld(healingAction: nil, runDelay: .seconds(1))
        let store = try await TestJournal()
        defer { store.remove() }
        let outcome = try await world.serveAgent { agentURL in
            let engine = makeEngine(
                agentURL: agentURL,
                modelURL: nil,
                journal: store.journal,
                world: world,
                clock: ImmediateClock()
            )
            return await withTaskGroup(of: RemediationOutcome.self) { group in
                group.addTask { await engine.respond(to: testIncident) }
                for _ in 0..<500 where !world.runs.contains("restart_api_core") {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                group.cancelAll()
                return await group.next() ?? .abandoned("no result")
            }
        }
        #expect(outcome == .abandoned("cancelled"))
        let entries = try await store.journal.entries(for: testIncident.id)
        #expect(entries.contains { $0.kind == .action && $0.tool == "restart_api_core" })
        #expect(!entries.contains { $0.kind == .paged })
        #expect(try store.notices().allSatisfy { $0.mention == nil })
    }
}
