import Foundation
public import Probing

/// The phases of one probe whose latency history is kept, each its own duration (not cumulative as curl
/// reports them): name resolution, TCP connect, TLS handshake, time to first byte after the handshake, and the
/// whole transfer.
public enum LatencyPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case dns, connect, tls
    case firstByte = "first_byte"
    case total

    /// This phase's own duration in a probe's cumulative timings; nil when the phase did not happen (no TLS on
    /// plain HTTP, nothing at all when the transfer failed before an answer).
    public func duration(in t: PhaseTimings) -> Double? {
        switch self {
        case .dns: return t.dnsMs
        case .connect: return max(t.connectMs - t.dnsMs, 0)
        case .tls: return t.tlsMs > 0 ? max(t.tlsMs - t.connectMs, 0) : nil
        case .firstByte: return max(t.firstByteMs - max(t.tlsMs, t.connectMs), 0)
        case .total: return t.totalMs
        }
    }
}

/// Latency counts in fixed, geometric buckets (each bound 1.25 × the one before, from 0.5 ms to ~54 s, then
/// one overflow bucket), so any two histograms merge by adding counts and a percentile is known to within one
/// bucket (±12.5 %). Kept sparse: only buckets with a count are stored.
public struct LatencyHistogram: Sendable, Hashable, Codable {
    /// Upper bounds (ms) of every bucket but the last, which holds everything above.
    public static let upperBoundsMs: [Double] = (0..<53).map { 0.5 * pow(1.25, Double($0)) }

    /// Bucket index → count, only non-zero buckets.
    public private(set) var counts: [Int: Int]

    public init(counts: [Int: Int] = [:]) { self.counts = counts.filter { $0.value > 0 } }

    public var total: Int { counts.values.reduce(0, +) }

    public static func bucket(of ms: Double) -> Int {
        var low = 0
        var high = upperBoundsMs.count
        while low < high {
            let mid = (low + high) / 2
            if ms <= upperBoundsMs[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    public mutating func add(_ ms: Double) { counts[Self.bucket(of: ms), default: 0] += 1 }

    public mutating func merge(_ other: LatencyHistogram) {
        for (bucket, count) in other.counts { counts[bucket, default: 0] += count }
    }

    /// The `p`-quantile (0…1), interpolated linearly inside its bucket; nil when empty.
    public func percentile(_ p: Double) -> Double? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = max(p, 0) * Double(total)
        var seen = 0
        for bucket in counts.keys.sorted() {
            let count = counts[bucket] ?? 0
            if Double(seen + count) >= rank {
                let low = bucket == 0 ? 0 : Self.upperBoundsMs[bucket - 1]
                let high = bucket < Self.upperBoundsMs.count ? Self.upperBoundsMs[bucket] : low * 1.25
                let inside = (rank - Double(seen)) / Double(count)
                return low + (high - low) * min(max(inside, 0), 1)
            }
            seen += count
        }
        return nil
    }

    /// The stored form: per non-zero bucket, ascending, its index (one byte) and its count (LEB128 varint),
    /// about two bytes a bucket.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for bucket in counts.keys.sorted() {
            bytes.append(UInt8(bucket))
            var count = UInt64(counts[bucket] ?? 0)
            repeat {
                let low = UInt8(count & 0x7f)
                count >>= 7
                bytes.append(count == 0 ? low : low | 0x80)
            } while count != 0
        }
        return bytes
    }

    /// Reads the stored form; a truncated tail is ignored.
    public init(encoded bytes: [UInt8]) {
        var counts: [Int: Int] = [:]
        var i = 0
        while i < bytes.count {
            let bucket = Int(bytes[i])
            i += 1
            var count: UInt64 = 0
            var shift: UInt64 = 0
            var complete = false
            while i < bytes.count, shift < 63 {
                let byte = bytes[i]
                i += 1
                count |= UInt64(byte & 0x7f) << shift
                shift += 7
                if byte & 0x80 == 0 {
                    complete = true
                    break
                }
            }
            if complete, bucket <= Self.upperBoundsMs.count { counts[bucket] = Int(count) }
        }
        self.init(counts: counts)
    }
}
