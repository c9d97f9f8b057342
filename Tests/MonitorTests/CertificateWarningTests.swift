import Foundation
import Monitor
import Probing
import Synchronization
import Testing
import ZumikTestSupport

/// Issue 15: a certificate near its expiry is its own state (`expiring`) with its own message naming the days
/// left and the notAfter date, repeated once a day (injected clock) until it is renewed. Real nginx serving
/// short-lived certificates made by openssl.
@Suite struct CertificateWarningTests {
    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "needs nginx and openssl"))
    func expiringCertificateIsWarnedDailyUntilRenewed() async throws {
        let dir = try TempDir()
        let shortLived = try SelfSignedCertificate(days: 10)
        defer { shortLived.remove() }
        let renewed = try SelfSignedCertificate(days: 90)
        defer { renewed.remove() }
        let old = try NginxServer(
            locations: #"location / { return 200 "ok"; }"#,
            tls: (shortLived.certPath, shortLived.keyPath)
        )
        defer { old.stop() }
        let new = try NginxServer(
            locations: #"location / { return 200 "ok"; }"#,
            tls: (renewed.certPath, renewed.keyPath)
        )
        defer { new.stop() }
        let clock = Mutex(Date())
        let store = try MonitorStore(path: dir.dbPath)
        let engine = CurlEngine(maxInFlight: 4)
        func service(_ nginx: NginxServer, ca: String) -> MonitorService {
            var property = PropertyConfig(name: "www", url: nginx.baseURL, timeout: .seconds(5), caFile: ca)
            property.certWarningDays = 14
            return MonitorService(
                config: MonitorConfig(certWarningDays: 3, storePath: dir.dbPath, properties: [property]),
                store: store,
                transport: engine,
                outbox: AlertOutbox(store: store, signal: WakeSignal()),
                logger: quietLogger,
                now: { clock.withLock { $0 } }
            )
        }
        func certificateTitles() throws -> [String] {
            try store.allOutbox().filter { $0.kind == "certificate" }.compactMap { row in
                let json = try JSONSerialization.jsonObject(with: Data(row.payload.utf8)) as? [String: Any]
                return (json?["embeds"] as? [[String: Any]])?.first?["title"] as? String
            }
        }
        let monitor = service(old, ca: shortLived.certPath)
        let first = try #require(await monitor.checkNow().first)
        #expect(first.health == .healthy, "\(first.reasons)")
        #expect(first.certificate?.state == .expiring)
        #expect(try certificateTitles() == ["www certificate expires in 9 days"])
        let payload = try #require(try store.allOutbox().first?.payload)
        #expect(payload.contains("Not after"))
        #expect(payload.contains(AlertFormatterProbe.notAfter(first.certificate!.notAfter)))

        // Probed again within the day: nothing more. A day later: the warning again.
        _ = await monitor.checkNow()
        clock.withLock { $0 = $0.addingTimeInterval(23 * 3600) }
        _ = await monitor.checkNow()
        #expect(try certificateTitles().count == 1)
        clock.withLock { $0 = $0.addingTimeInterval(3600) }
        _ = await monitor.checkNow()
        #expect(try certificateTitles() == ["www certificate expires in 9 days", "www certificate expires in 8 days"])
        let warnedAt = try #require(try await store.lastCertificateWarning(property: "www"))
        #expect(abs(warnedAt.timeIntervalSince(clock.withLock { $0 })) < 0.01)

        // Renewed (the same property now answers with a 90-day certificate): one all-clear, then quiet.
        let after = try #require(await service(new, ca: renewed.certPath).checkNow().first)
        #expect(after.certificate?.state == .ok)
        _ = await service(new, ca: renewed.certPath).checkNow()
        #expect(try certificateTitles().last == "www certificate renewed")
        #expect(try certificateTitles().count == 3)
        #expect(try await store.lastCertificateWarning(property: "www") == nil)
        // Nothing about the certificate is a transition: no incident was opened.
        #expect(try store.incidents().isEmpty)
    }
}

/// `zumik-monitor check` shows the expiring certificate beside a healthy answer, and `validate` never echoes a
/// secret the checks take from the environment.
@Suite(.enabled(if: MonitorProcess.binary != nil, "zumik-monitor binary not built beside the tests"))
struct CheckCommandCertificateTests {
    @Test(.enabled(if: NginxServer.isAvailable && SelfSignedCertificate.openssl != nil, "needs nginx and openssl"))
    func checkShowsTheExpiringCertificateAndValidateNoSecret() throws {
        let dir = try TempDir()
        let cert = try SelfSignedCertificate(days: 10)
        defer { cert.remove() }
        let nginx = try NginxServer(locations: #"location / { return 200 "ok"; }"#, tls: (cert.certPath, cert.keyPath))
        defer { nginx.stop() }
        let path = dir.url.appendingPathComponent("monitor.yaml").path
        try """
        store_path: state.sqlite
        properties:
          - {name: www, url: "\(nginx.baseURL)/", ca_file: "\(cert.certPath)", bearer_token_env: API_TOKEN}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let env = ["PATH": "/usr/bin:/bin", "API_TOKEN": "tok-secret-0123456789"]
        let (status, output) = try CommandLineTests.run(["check", "--config", path], env: env)
        #expect(status == 0, "\(output)")
        #expect(output.contains("certificate expiring: 9 days left (warning at 14)"), "\(output)")
        let (valid, said) = try CommandLineTests.run(["validate", path], env: env)
        #expect(valid == 0, "\(said)")
        #expect(!said.contains("tok-secret") && !output.contains("tok-secret"))
    }
}

/// The notAfter as the message prints it (`2026-12-09 23:59 UTC`), computed independently of the formatter.
enum AlertFormatterProbe {
    static func notAfter(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
