import ActionKit
import Foundation
import Testing

@Suite struct OpenAIToolsTests {
    @Test func everyActionIsAStrictFunctionWithOnlyAReason() throws {
        let spec = ActionSpec(
            id: "restart_gateway",
            title: "Restart gateway",
            description: "Restarts the gateway container.",
            kind: .remediation,
            argv: ["/usr/bin/docker", "restart", "gateway"],
            timeoutS: 60,
            killGraceS: 5,
            lock: "docker",
            limits: ActionLimits(cooldownS: 60),
            targets: ["gateway"],
            rank: 10,
            maxOutputBytes: 1024
        )
        let tools = OpenAITools.render(specs: [spec])
        let data = try JSONEncoder().encode(tools)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(object.count == 1)
        let tool = object[0]
        #expect(tool["type"] as? String == "function")
        let function = try #require(tool["function"] as? [String: Any])
        #expect(function["name"] as? String == "restart_gateway")
        #expect(function["description"] as? String == "Restarts the gateway container.")
        #expect(function["strict"] as? Bool == true)
        let parameters = try #require(function["parameters"] as? [String: Any])
        #expect(parameters["type"] as? String == "object")
        #expect(parameters["required"] as? [String] == ["reason"])
        #expect(parameters["additionalProperties"] as? Bool == false)
        let properties = try #require(parameters["properties"] as? [String: Any])
        #expect(Array(properties.keys) == ["reason"])
        #expect((properties["reason"] as? [String: Any])?["type"] as? String == "string")
        // Nothing of the command reaches the model.
        #expect(!String(decoding: data, as: UTF8.self).contains("/usr/bin/docker"))
    }
}
