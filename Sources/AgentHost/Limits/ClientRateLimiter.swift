import Synchronization

/// Per-client-IP token buckets with bounded memory.
///
/// Each client starts with `burst` tokens that refill at `refillPerSecond`. A request costs one
/// token; a failed authentication costs `failedAuthCost` more. At most `maxTrackedClients`
/// buckets are kept: when full, buckets that have refilled completely are dropped first (they
/// are the same as a fresh one), then the least recently seen half.
public final class ClientRateLimiter: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var burst: Double
        public var refillPerSecond: Double
        public var failedAuthCost: Double
        public var maxTrackedClients: Int

        public init(
            burst: Double = 30,
            refillPerSecond: Double = 1,
            failedAuthCost: Double = 5,
            maxTrackedClients: Int = 10_000
        ) {
            self.burst = burst
            self.refillPerSecond = refillPerSecond
            self.failedAuthCost = failedAuthCost
            self.maxTrackedClients = maxTrackedClients
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let configuration: Configuration
    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(configuration: Configuration, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.configuration = configuration
        self.now = now
    }

    /// Takes one token for `client`; nil when allowed, else the seconds until one is available.
    public func take(client: String) -> Int? {
        charge(client: client, cost: 1, refuseIfShort: true)
    }

    /// Charges the extra cost of a failed authentication (may go below zero, so that a
    /// guesser waits longer).
    public func penalize(client: String) {
        _ = charge(client: client, cost: configuration.failedAuthCost, refuseIfShort: false)
    }

    public var trackedClients: Int { buckets.withLock { $0.count } }

    private func charge(client: String, cost: Double, refuseIfShort: Bool) -> Int? {
        let now = self.now()
        let configuration = self.configuration
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: configuration.burst, updated: now)
            bucket.tokens = refilled(bucket, at: now)
            bucket.updated = now
            if refuseIfShort && bucket.tokens < cost {
                buckets[client] = bucket
                let missing = cost - bucket.tokens
                let seconds = configuration.refillPerSecond > 0 ? missing / configuration.refillPerSecond : 3600
                return max(1, Int(seconds.rounded(.up)))
            }
            bucket.tokens -= cost
            if buckets[client] == nil && buckets.count >= configuration.maxTrackedClients {
                evict(&buckets, now: now)
            }
            buckets[client] = bucket
            return nil
        }
    }

    private func refilled(_ bucket: Bucket, at now: ContinuousClock.Instant) -> Double {
        let (seconds, attoseconds) = bucket.updated.duration(to: now).components
        let elapsed = Double(seconds) + Double(attoseconds) / 1e18
        return min(configuration.burst, bucket.tokens + max(0, elapsed) * configuration.refillPerSecond)
    }

    private func evict(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, at: now) < configuration.burst }
        guard buckets.count >= configuration.maxTrackedClients else { return }
        let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(configuration.maxTrackedClients / 2)
        buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
