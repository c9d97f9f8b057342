import Foundation
import Monitor
import Testing

/// The `CertificateWarningStorage` contract, through the protocol only, on both backends: a warning once per
/// `every` for one certificate, at once for a new one, and one all-clear when it is renewed.
@Suite struct CertificateWarningStorageContractTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400

    func make(_ backend: StorageBackend) throws -> (any CertificateWarningStorage, any MonitorStorage, AnyObject) {
        let (storage, keep) = try backend.make()
        let warnings = try #require(storage as? any CertificateWarningStorage, "\(backend) keeps no warnings")
        return (warnings, storage, keep)
    }

    @Test(arguments: StorageBackend.available)
    func aWarningRepeatsOncePerIntervalAndAtOnceForANewCertificate(_ backend: StorageBackend) async throws {
        let (warnings, storage, keep) = try make(backend)
        let notAfter = t0 + 9 * day
        func warn(_ at: Date, _ notAfter: Date) async throws -> Int64? {
            try await warnings.warnCertificate(
                property: "www",
                notAfter: notAfter,
                now: at,
                every: day,
                message: PlainMessage(text: "expires \(notAfter.timeIntervalSince1970)")
            )
        }
        #expect(try await warnings.lastCertificateWarning(property: "www") == nil)
        let first = try #require(try await warn(t0, notAfter))
        #expect(try await warn(t0 + day - 1, notAfter) == nil)
        #expect(try await warnings.lastCertificateWarning(property: "www") == t0)
        let second = try #require(try await warn(t0 + day, notAfter))
        // Another certificate (renewed, but still within the window): warned at once.
        let third = try #require(try await warn(t0 + day + 60, notAfter + 5 * day))
        #expect(try await warnings.lastCertificateWarning(property: "www") == t0 + day + 60)
        let rows = try await storage.allOutbox()
        #expect(rows.map(\.id) == [first, second, third])
        #expect(rows.allSatisfy { $0.kind == "certificate" && $0.incidentID == nil })
        #expect(try await warnings.lastCertificateWarning(property: "api") == nil)
        withExtendedLifetime(keep) {}
    }

    @Test(arguments: StorageBackend.available)
    func theAllClearIsQueuedOnceAndOnlyAfterAWarning(_ backend: StorageBackend) async throws {
        let (warnings, storage, keep) = try make(backend)
        let renewed = PlainMessage(text: "renewed")
        #expect(try await warnings.clearCertificateWarning(property: "www", now: t0, message: renewed) == nil)
        _ = try await warnings.warnCertificate(
            property: "www",
            notAfter: t0 + 9 * day,
            now: t0,
            every: day,
            message: PlainMessage(text: "expires")
        )
        let cleared = try #require(
            try await warnings.clearCertificateWarning(property: "www", now: t0 + 60, message: renewed)
        )
        #expect(try await warnings.clearCertificateWarning(property: "www", now: t0 + 120, message: renewed) == nil)
        #expect(try await warnings.lastCertificateWarning(property: "www") == nil)
        #expect(try await storage.allOutbox().map(\.payload) == ["expires", "renewed"])
        #expect(try await storage.allOutbox().last?.id == cleared)
        withExtendedLifetime(keep) {}
    }
}

/// Several monitors probing one certificate on one PostgreSQL database warn once.
@Suite(.enabled(if: PostgresTestStore.unavailableReason == nil, "PostgreSQL 15 is not installed"))
struct PostgresCertificateWarningTests {
    @Test func monitorsWarningAndClearingAtOnceQueueOneMessageEach() async throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let database = try PostgresTestStore(holder: "a")
        let other = try database.sibling(holder: "b")
        let stores = [database.store, other.store, database.store, other.store]
        for round in 0..<8 {
            let property = "www\(round)"
            let warned = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
                for store in stores {
                    tasks.addTask {
                        try await store.warnCertificate(
                            property: property,
                            notAfter: t0 + 9 * 86_400,
                            now: t0,
                            every: 86_400,
                            message: PlainMessage(text: "expires")
                        )
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(warned.compactMap { $0 }.count == 1, "round \(round)")
            let cleared = try await withThrowingTaskGroup(of: Int64?.self) { tasks in
                for store in stores {
                    tasks.addTask {
                        try await store.clearCertificateWarning(
                            property: property,
                            now: t0 + 60,
                            message: PlainMessage(text: "renewed")
                        )
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(cleared.compactMap { $0 }.count == 1, "round \(round)")
        }
        #expect(try await database.store.allOutbox().count == 16)
    }
}
