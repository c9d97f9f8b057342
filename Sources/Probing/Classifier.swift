public import Foundation

/// Pure classification of one transfer against a property's expectations.
///
/// - down: no response (DNS, connect, TLS, timeout, reset, oversized body), an unexpected status, the
///   expected body substring missing, or a failing condition (each named with what was seen);
/// - degraded: answered as expected but slower than `degradedMs` (total time);
/// - healthy otherwise.
///
/// A certificate within `certWarningDays` of its notAfter is not a health: `ProbeResult.certificate` says
/// `expiring`, and the monitor sends its own warning (an expired or untrusted certificate fails TLS: down).
public enum Classifier {
    public static func classify(
        _ result: HTTPResult,
        target property: ProbeTarget,
        certWarningDays: Int,
        now: Date
    ) -> ProbeResult {
        var probe = ProbeResult(
            property: property.name,
            url: property.url,
            at: now,
            health: .healthy,
            status: result.status,
            timings: result.timings,
            certificateExpiry: result.certificateExpiry,
            error: result.error
        )
        probe.certificate = result.certificateExpiry.map {
            CertificateState(notAfter: $0, warningDays: certWarningDays, now: now)
        }
        var down: [String] = []
        var degraded: [String] = []
        if let error = result.error {
            switch error.kind {
            case .timeout: down.append("timed out after \(Self.ms(result.timings.totalMs)): \(error.message)")
            case .dns: down.append("DNS lookup failed: \(error.message)")
            case .connect: down.append("connection failed: \(error.message)")
            case .tls: down.append("TLS failed: \(error.message)")
            case .responseTooLarge: down.append(error.message)
            case .cancelled: down.append("probe cancelled")
            case .invalidRequest: down.append("invalid request: \(error.message)")
            case .other: down.append("transfer failed (curl \(error.curlCode)): \(error.message)")
            }
        } else if let status = result.status {
            let statusCondition = property.conditions.contains { $0.subject == .status }
            if !statusCondition, !property.expectedStatus.contains(status) {
                let expected = property.expectedStatus.map(String.init).joined(separator: ", ")
                down.append("unexpected status \(status) (expected \(expected))")
            } else if let needle = property.bodyContains, property.method != "HEAD",
                !result.bodyText.contains(needle)
            {
                down.append("body does not contain the expected text")
            }
            down += failedConditions(result, target: property, now: now)
        } else {
            down.append("no HTTP response")
        }
        if down.isEmpty {
            if result.timings.totalMs > Double(property.degradedMs) {
                degraded.append("slow: \(Self.ms(result.timings.totalMs)) > \(property.degradedMs) ms")
            }
        }
        if !down.isEmpty {
            probe.health = .down
            probe.reasons = down
        } else if !degraded.isEmpty {
            probe.health = .degraded
            probe.reasons = degraded
        }
        return probe
    }

    /// One message per failing condition, naming it (1-based, as written) and what was seen.
    static func failedConditions(_ result: HTTPResult, target: ProbeTarget, now: Date) -> [String] {
        guard !target.conditions.isEmpty else { return [] }
        let needsJSON = target.conditions.contains { if case .json = $0.subject { true } else { false } }
        let answer = Condition.Answer(
            status: result.status,
            headers: result.headers,
            body: result.bodyText,
            json: needsJSON ? JSONNode.parse(result.body) : nil,
            totalMs: result.timings.totalMs,
            certificateExpiry: result.certificateExpiry,
            now: now
        )
        return target.conditions.enumerated().compactMap { index, condition in
            condition.failure(in: answer).map { "condition \(index + 1) (\(condition)) failed: \($0)" }
        }
    }

    static func ms(_ value: Double) -> String { "\(Int(value.rounded())) ms" }
}
