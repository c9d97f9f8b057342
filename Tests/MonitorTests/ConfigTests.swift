import ActionKit
import Foundation
import Monitor
import Probing
import Testing

@Suite struct ConfigTests {
    let minimal = """
        properties:
          - name: api
            url: https://api.zumik.ai/healthz
        """

    func errors(_ yaml: String, env: [String: String] = [:]) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: env)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func minimalConfigGetsDefaults() throws {
        let config = try ConfigLoader.parse(yaml: minimal, file: "monitor.yaml", environment: [:])
        #expect(config.interval == .seconds(60))
        #expect(config.confirmationDelay == .seconds(10))
        #expect(config.failureThreshold == 2)
        #expect(config.successThreshold == 1)
        #expect(config.maxInFlight == 64)
        #expect(config.controlHost == "127.0.0.1")
        #expect(config.controlPort == 9464)
        let p = try #require(config.properties.first)
        #expect(p.method == "GET")
        #expect(p.expectedStatus == [200])
        #expect(p.timeout == .seconds(10))
        #expect(p.degradedMs == 2000)
        #expect(!p.alertOnly)
        #expect(config.secrets.discordWebhookURL == nil)
        #expect(config.hosts["default"] != nil)
    }

    @Test func shippedExampleIsValidAndWatchesTheSeedProperties() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/monitor.example.yaml").path
        let config = try ConfigLoader.load(path: path, environment: [:])
        let urls = config.properties.map(\.url)
        #expect(urls.contains("https://api.zumik.ai/healthz"))
        #expect(urls.contains { $0.hasPrefix("https://api.zumik.ai/v2") })
        #expect(urls.contains("https://zumik.ai"))
        #expect(urls.contains("https://console.zumik.ai"))
        let alertOnly = config.properties.filter(\.alertOnly).map(\.name).sorted()
        #expect(alertOnly == ["auth", "docs"])
        #expect(config.property(named: "console")?.host == "vps")
        #expect(config.storePath.hasPrefix("/"))
    }

    @Test func everyValueIsReadAndConfirmationCanBeDisabled() throws {
        let yaml = """
            interval: 30s
            confirmation_delay: false
            success_threshold: 3
            failure_threshold: 3
            degraded_threshold_ms: 800
            cert_warning_days: 7
            max_in_flight: 10
            control: {listen: "127.0.0.1:0"}
            properties:
              - name: api
                url: https://api.zumik.ai/v2/status
                method: head
                expected_status: [200, 204]
                body_contains: ok
                timeout: 1500ms
                alert_only: true
            """
        let config = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: [:])
        #expect(config.interval == .seconds(30))
        #expect(config.confirmationDelay == nil)
        #expect(config.successThreshold == 3)
        #expect(config.failureThreshold == 3)
        #expect(config.certWarningDays == 7)
        #expect(config.maxInFlight == 10)
        #expect(config.controlPort == 0)
        let p = try #require(config.properties.first)
        #expect(p.method == "HEAD")
        #expect(p.expectedStatus == [200, 204])
        #expect(p.timeout == .milliseconds(1500))
        #expect(p.degradedMs == 800)
        #expect(p.alertOnly)
        let zero = try ConfigLoader.parse(yaml: "confirmation_delay: 0\n" + minimal, file: "m.yaml", environment: [:])
        #expect(zero.confirmationDelay == nil)
    }

    @Test func invalidYAMLNamesFileAndLine() {
        let e = errors("properties: [\n  - name: : x")
        #expect(e.count == 1)
        #expect(e.first?.hasPrefix("monitor.yaml: invalid YAML: line") == true)
    }

    @Test func unknownKeysAreRejectedWithTheirPath() {
        #expect(errors("colour: red\n" + minimal).first?.hasPrefix("monitor.yaml: colour: unknown key") == true)
        let nested = errors(minimal + "\n    retries: 3")
        #expect(nested.first?.hasPrefix("monitor.yaml: properties[0].retries: unknown key") == true)
        #expect(
            errors("control: {port: 1}\n" + minimal).first?.hasPrefix("monitor.yaml: control.port: unknown key") == true
        )
    }

    @Test func badValuesNameKeyPathAndProblem() {
        let yaml = """
            interval: soon
            success_threshold: 0
            failure_threshold: 1
            control: {listen: "nowhere"}
            properties:
              - name: api
                url: https://api.zumik.ai/healthz
              - name: api
                url: "not a url"
                method: FETCH
                expected_status: [200, 999]
                timeout: -1s
                alert_only: maybe
                host: mars
            """
        let e = errors(yaml)
        #expect(e.contains(#"monitor.yaml: interval: expected a duration such as 10s, 500ms or 5m, got "soon""#))
        #expect(e.contains("monitor.yaml: success_threshold: must be between 1 and 100, got 0"))
        #expect(e.contains("monitor.yaml: failure_threshold: must be between 2 and 100, got 1"))
        #expect(e.contains { $0.hasPrefix("monitor.yaml: control.listen: expected HOST:PORT") })
        #expect(e.contains(#"monitor.yaml: properties[1].name: duplicate name "api" (also properties[0])"#))
        #expect(e.contains { $0.hasPrefix("monitor.yaml: properties[1].url: not an http(s) URL") })
        #expect(e.contains { $0.hasPrefix("monitor.yaml: properties[1].method: must be one of") })
        #expect(e.contains("monitor.yaml: properties[1].expected_status[1]: must be between 100 and 599, got 999"))
        #expect(e.contains("monitor.yaml: properties[1].timeout: must be greater than zero"))
        #expect(e.contains(#"monitor.yaml: properties[1].alert_only: expected true or false, got "maybe""#))
        #expect(e.contains { $0.hasPrefix(#"monitor.yaml: properties[1].host: unknown host "mars""#) })
    }

    @Test func missingPropertiesAndRequiredKeys() {
        #expect(errors("interval: 10s").contains("monitor.yaml: properties: required: the list of properties to watch"))
        #expect(errors("").contains { $0.hasPrefix("monitor.yaml: the file is empty") })
        let e = errors("properties:\n  - method: GET")
        #expect(e.contains("monitor.yaml: properties[0].name: required"))
        #expect(e.contains("monitor.yaml: properties[0].url: required"))
        #expect(errors("properties: {}").contains("monitor.yaml: properties: expected a list"))
    }

    @Test func remediablePropertyNeedsAService() {
        let yaml = """
            properties:
              - name: console
                url: https://console.zumik.ai
                host: default
            """
        #expect(
            errors(yaml) == [
                "monitor.yaml: properties[0].service: required when a property has a host and is not alert_only"
            ]
        )
    }

    @Test func credentialsInURLAreRefused() {
        let yaml = """
            properties:
              - name: api
                url: https://user:hunter2@api.zumik.ai/
            """
        let e = errors(yaml)
        #expect(e.count == 1)
        #expect(e.first?.contains("properties[0].url") == true)
        #expect(e.first?.contains("hunter2") == false, "\(e)")
    }

    @Test func secretsComeFromEnvironmentAndAreNeverEchoed() throws {
        let secretURL = "https://discord.com/api/webhooks/1/SECRET-WEBHOOK-TOKEN"
        let token = "control-token-0123456789"
        let config = try ConfigLoader.parse(
            yaml: minimal,
            file: "monitor.yaml",
            environment: [
                "DISCORD_WEBHOOK_URL": secretURL, "CONTROL_TOKEN": token, "DISCORD_ALERT_USER_ID": "123456789012345678",
                "OPS_AGENT_URL": "https://agent.zumik.ai", "OPS_AGENT_TOKEN": "agent-token-abcdefghijkl",
                "MAX_REMEDIATION_ROUNDS": "5",
            ]
        )
        #expect(config.secrets.discordWebhookURL?.value == secretURL)
        #expect(config.secrets.controlToken?.value == token)
        #expect(config.secrets.maxRemediationRounds == 5)
        #expect(config.hosts["default"]?.url == "https://agent.zumik.ai")
        let dump = "\(config) \(String(reflecting: config))"
        #expect(!dump.contains("SECRET-WEBHOOK-TOKEN"))
        #expect(!dump.contains(token))
        #expect(!dump.contains("agent-token-abcdefghijkl"))
        #expect(dump.contains("<redacted>"))
    }

    @Test func badSecretsAreReportedWithoutTheirValue() {
        let e = errors(
            minimal,
            env: [
                "DISCORD_WEBHOOK_URL": "ftp://SECRET-VALUE", "CONTROL_TOKEN": "SHORTSECRET",
                "DISCORD_ALERT_USER_ID": "@SECRETUSER", "MAX_REMEDIATION_ROUNDS": "lots",
            ]
        )
        #expect(e.contains("environment: DISCORD_WEBHOOK_URL: not an http(s) URL"))
        #expect(e.contains("environment: CONTROL_TOKEN: must be at least 16 characters"))
        #expect(e.contains("environment: DISCORD_ALERT_USER_ID: must be a numeric Discord user id"))
        #expect(e.contains("environment: MAX_REMEDIATION_ROUNDS: must be an integer between 0 and 20"))
        #expect(!e.joined().contains("SECRET"))
    }

    @Test func unreadableFileIsAClearError() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/monitor.yaml", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "monitor.yaml: cannot read file at /nonexistent/monitor.yaml")
        }
    }

    @Test func remediationSettingsAreReadWithTheRestOfTheFile() throws {
        #expect(try ConfigLoader.parse(yaml: minimal, file: "monitor.yaml", environment: [:]).remediation == .init())
        let yaml =
            "remediation:\n  model: gpt-4.1-mini\n  base_url: http://127.0.0.1:9/v1\n  settle_seconds: 5\n"
            + minimal
        let config = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: [:])
        #expect(config.remediation.model == "gpt-4.1-mini")
        #expect(config.remediation.baseURL == "http://127.0.0.1:9/v1")
        #expect(config.remediation.settle == .seconds(5))
    }

    @Test(
        "remediation errors name the file and the key path",
        arguments: [
            ("remediation:\n  modle: x\n", "monitor.yaml: remediation.modle: unknown key"),
            ("remediation:\n  base_url: ftp://x\n", "monitor.yaml: remediation.base_url: must be an http(s) URL"),
            (
                "remediation:\n  settle_seconds: -1\n",
                "monitor.yaml: remediation.settle_seconds: must be a number from 0.0 to 3600.0"
            ),
            ("remediation:\n  model: \"  \"\n", "monitor.yaml: remediation.model: must be a non-empty string"),
            ("remediation: yes\n", "monitor.yaml: remediation: expected a mapping"),
        ]
    )
    func remediationErrorsNameTheKey(yaml: String, message: String) {
        do {
            _ = try ConfigLoader.parse(yaml: yaml + minimal, file: "monitor.yaml", environment: [:])
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.errors.contains { $0.description.hasPrefix(message) }, "\(error.description)")
        }
    }
}

@Suite struct HostConfigTests {
    @Test func hostsResolveTheirOwnEnvironmentAndBadURLsAreReported() throws {
        let yaml = """
            hosts:
              vps:
                url_env: VPS_AGENT_URL
                token_env: VPS_AGENT_TOKEN
            properties:
              - name: console
                url: https://console.zumik.ai
                host: vps
                service: console
            """
        let config = try ConfigLoader.parse(
            yaml: yaml,
            file: "monitor.yaml",
            environment: ["VPS_AGENT_URL": "https://ops.zumik.ai", "VPS_AGENT_TOKEN": "token-0123456789abcdef"]
        )
        #expect(config.hosts["vps"]?.url == "https://ops.zumik.ai")
        #expect(config.hosts["vps"]?.token?.value == "token-0123456789abcdef")
        #expect(config.hosts["default"]?.url == nil)
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "monitor.yaml", environment: ["VPS_AGENT_URL": "ops-SECRET"])
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.map(\.description) == ["environment: VPS_AGENT_URL: not an http(s) URL"])
        }
        let badName =
            "hosts:\n  vps: {url_env: lower-case, token_env: T}\nproperties:\n  - {name: a, url: 'https://a.b'}"
        do {
            _ = try ConfigLoader.parse(yaml: badName, file: "monitor.yaml", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(
                error.errors.map(\.description) == [
                    "monitor.yaml: hosts.vps.url_env: must be an environment variable name such as OPS_AGENT_URL"
                ]
            )
        }
    }
}
