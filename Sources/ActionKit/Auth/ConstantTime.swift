/// Comparison of secrets (bearer tokens, `Authorization` headers) that does not reveal where they differ.
///
/// Used by the ops-agent's bearer check and the monitor's control API: one implementation, one test.
public enum ConstantTime {
    /// `true` when `lhs` and `rhs` hold the same bytes.
    ///
    /// Every position up to the longer length is visited and the contents never decide a branch or an
    /// early exit, so the time taken does not depend on where the first difference is. Lengths are not
    /// treated as secret (a length mismatch still visits every position and then fails).
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: lhs.count ^ rhs.count)
        for index in 0..<max(lhs.count, rhs.count) {
            let a = index < lhs.count ? lhs[index] : 0
            let b = index < rhs.count ? rhs[index] : 0
            difference |= UInt64(a ^ b)
        }
        return difference == 0 && lhs.count == rhs.count
    }
}
