import ActionKit
import Testing

@Suite struct ConstantTimeTests {
    @Test func equalBytesCompareEqual() {
        #expect(ConstantTime.equal([], []))
        #expect(ConstantTime.equal(Array("Bearer token-0123456789".utf8), Array("Bearer token-0123456789".utf8)))
    }

    @Test func anyDifferenceCompareUnequal() {
        let token = Array("token-0123456789abcdef".utf8)
        // A difference in the first, a middle and the last byte.
        for index in [0, token.count / 2, token.count - 1] {
            var other = token
            other[index] ^= 0x01
            #expect(!ConstantTime.equal(token, other), "difference at \(index)")
            #expect(!ConstantTime.equal(other, token), "difference at \(index)")
        }
    }

    @Test func lengthMismatchesCompareUnequal() {
        let token = Array("token-0123456789abcdef".utf8)
        #expect(!ConstantTime.equal(token, Array(token.dropLast())))
        #expect(!ConstantTime.equal(Array(token.dropLast()), token))
        #expect(!ConstantTime.equal(token, token + [0]))
        #expect(!ConstantTime.equal([], token))
        #expect(!ConstantTime.equal(token, []))
        // Lengths whose difference is a multiple of 256 must not cancel out.
        #expect(!ConstantTime.equal([UInt8](repeating: 0, count: 256), []))
    }
}
