#if canImport(Glibc)
import Glibc
#endif

/// One message between the agent and a reader helper over their socket: a little-endian `UInt32`
/// length, a `UInt32` of flags (bit 0: the helper retires after this answer), then the payload.
/// Reads and writes never block past their deadline and never raise SIGPIPE.
struct ReaderFrame {
    var payload: [UInt8]
    var retiring: Bool

    enum Failure: Error {
        case closed
        case timedOut
        case tooLarge
    }

    static func send(_ payload: [UInt8], retiring: Bool, to fd: Int32, deadline: ContinuousClock.Instant?) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payload.count + 8)
        withUnsafeBytes(of: UInt32(payload.count).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(retiring ? 1 : 0).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload)
        var offset = 0
        while offset < bytes.count {
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return false }
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    static func receive(from fd: Int32, deadline: ContinuousClock.Instant?, maxBytes: Int) -> ReaderFrame? {
        try? receiving(from: fd, deadline: deadline, maxBytes: maxBytes).get()
    }

    static func receiving(from fd: Int32, deadline: ContinuousClock.Instant?, maxBytes: Int) -> Result<
        ReaderFrame, Failure
    > {
        var header = [UInt8](repeating: 0, count: 8)
        if let failure = read(into: &header, from: fd, deadline: deadline) { return .failure(failure) }
        let length = Int(header.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        let flags = header.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        }
        guard length <= maxBytes else { return .failure(.tooLarge) }
        var payload = [UInt8](repeating: 0, count: length)
        if let failure = read(into: &payload, from: fd, deadline: deadline) { return .failure(failure) }
        return .success(ReaderFrame(payload: payload, retiring: flags & 1 != 0))
    }

    private static func read(into buffer: inout [UInt8], from fd: Int32, deadline: ContinuousClock.Instant?) -> Failure?
    {
        var offset = 0
        while offset < buffer.count {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return .timedOut }
            let count = buffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_DONTWAIT))
            }
            if count == 0 { return .closed }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                return .closed
            }
            offset += count
        }
        return nil
    }

    /// Whether `fd` became ready for `events` (or hung up) before `deadline` (nil: no deadline).
    private static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant?) -> Bool {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { return false }
                let (seconds, attoseconds) = left.components
                timeout = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            var one = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&one, 1, timeout)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let the read or write report it
        }
    }
}
