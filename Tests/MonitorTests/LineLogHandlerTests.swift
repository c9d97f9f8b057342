import Foundation
import Logging
import ServerSupport
import Synchronization
import Testing

/// The one log handler of both executables: same keys, RFC 3339 with milliseconds, typed JSON values.
@Suite struct LineLogHandlerTests {
    /// 2026-11-29T21:50:01.250Z
    static let fixed = Date(timeIntervalSince1970: 1_795_989_001.25)

    func lines(_ format: LineLogHandler.Format, _ body: (Logger) -> Void) -> [String] {
        let captured = Mutex<[String]>([])
        let logger = Logger(label: "zumik-test") { label in
            LineLogHandler(
                label: label,
                format: format,
                level: .debug,
                output: { line in captured.withLock { $0.append(line) } },
                now: { Self.fixed }
            )
        }
        body(logger)
        return captured.withLock { $0 }
    }

    @Test func logfmtHasTheSharedKeysInOrderAndQuotesWhatNeedsIt() {
        let out = lines(.logfmt) { logger in
            logger.info(
                "probe recorded",
                metadata: [
                    "probe.property": "api", "probe.reasons": "timed out after 5000 ms",
                    "http.status": .stringConvertible(502), "probe.empty": "",
                ]
            )
        }
        #expect(
            out == [
                #"time=2026-11-29T21:50:01.250Z level=info logger=zumik-test msg="probe recorded" "#
                    + #"http.status=502 probe.empty="" probe.property=api probe.reasons="timed out after 5000 ms""#
            ]
        )
    }

    @Test func jsonValuesAreTyped() throws {
        let out = lines(.json) { logger in
            logger.notice(
                "control API listening",
                metadata: [
                    "control.port": .stringConvertible(9464), "control.open": .stringConvertible(true),
                    "probe.seconds": .stringConvertible(1.5), "control.host": "127.0.0.1",
                    "probe.reasons": .array(["slow", "cert"]),
                ]
            )
        }
        let line = try #require(out.first)
        #expect(line.hasPrefix(#"{"time":"2026-11-29T21:50:01.250Z","level":"notice","logger":"zumik-test","#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["control.port"] as? Int == 9464)
        #expect(object["control.open"] as? Bool == true)
        #expect(object["probe.seconds"] as? Double == 1.5)
        #expect(object["control.host"] as? String == "127.0.0.1")
        #expect(object["probe.reasons"] as? [String] == ["slow", "cert"])
        #expect(object["msg"] as? String == "control API listening")
    }

    @Test func controlCharactersAndQuotesAreEscapedInBothFormats() throws {
        let text = "line one\nsaid \"hi\"\u{1}"
        let logfmt = lines(.logfmt) { $0.error("failed", metadata: ["error": "\(text)"]) }
        #expect(logfmt.first?.hasSuffix(#"error="line one\nsaid \"hi\"\u0001""#) == true)
        let json = try #require(lines(.json) { $0.error("failed", metadata: ["error": "\(text)"]) }.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["error"] as? String == text)
    }

    @Test func levelBelowTheHandlersIsDropped() {
        let out = lines(.logfmt) { logger in
            var quiet = logger
            quiet.logLevel = .warning
            quiet.info("not shown")
            quiet.warning("shown")
        }
        #expect(out.count == 1)
        #expect(out.first?.contains("msg=shown") == true)
    }
}
