import ActionKit
import AgentHost
import Testing

@Suite struct MCPConfigurationTests {
    static func spec(_ id: String, _ kind: ActionKind) -> ActionSpec {
        ActionSpec(
            id: id,
            title: id,
            description: "d",
            kind: kind,
            argv: ["/bin/true"],
            preflightArgv: nil,
            timeoutS: 1,
            killGraceS: 1,
            lock: id,
            limits: ActionLimits(maxRuns: 1, windowS: 1),
            targets: ["t"],
            rank: 1,
            maxOutputBytes: 1024
        )
    }

    @Test func defaultsServeDiagnosticsOnly() throws {
        let config = try AgentConfiguration.resolve(
            options: .init(),
            environment: ["OPS_AGENT_TOKEN": "0123456789abcdef"]
        )
        #expect(config.mcp.enabled)
        #expect(config.mcp.allowedRemediations.isEmpty)
        #expect(config.mcp.permits(Self.spec("disk_check", .diagnostic)))
        #expect(!config.mcp.permits(Self.spec("restart_api", .remediation)))
    }

    @Test func optionsWinOverTheEnvironment() throws {
        let environment = ["ZUMIK_MCP_ALLOW": "restart_api, reload_nginx,", "ZUMIK_MCP_DISABLE": "1"]
        let fromEnvironment = try MCPConfiguration.resolve(.init(), environment: environment)
        #expect(fromEnvironment.allowedRemediations == ["restart_api", "reload_nginx"])
        #expect(!fromEnvironment.enabled)
        #expect(fromEnvironment.permits(Self.spec("reload_nginx", .remediation)))
        let fromOptions = try MCPConfiguration.resolve(.init(allow: ["restart_api"]), environment: environment)
        #expect(fromOptions.allowedRemediations == ["restart_api"])
        #expect(!fromOptions.permits(Self.spec("reload_nginx", .remediation)))
    }

    @Test(arguments: ["Restart", "../x", "restart api", ""])
    func refusesWhatIsNotAnActionID(_ id: String) {
        #expect(throws: StartupError.self) { try MCPConfiguration.resolve(.init(allow: [id]), environment: [:]) }
    }
}
