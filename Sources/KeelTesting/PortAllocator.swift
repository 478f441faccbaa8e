import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands out free TCP ports on 127.0.0.1, never the same one twice in this test process
/// (workspaces of suites that run in parallel would otherwise race for one port).
final class PortAllocator: @unchecked Sendable {
    /// The allocator shared by every workspace of the test process.
    static let shared = PortAllocator()

    private let lock = NSLock()
    private var handedOut: Set<Int> = []

    /// A port that the kernel reported free just now and that was not handed out before.
    func allocate() throws -> Int {
        for _ in 0..<64 {
            let port = try Self.probeFreePort()
            lock.lock()
            let fresh = handedOut.insert(port).inserted
            lock.unlock()
            if fresh { return port }
        }
        throw HarnessError.setupFailed("no free TCP port found on 127.0.0.1")
    }

    /// Binds a TCP socket to 127.0.0.1 port 0, reads back the port the kernel chose and closes it.
    static func probeFreePort() throws -> Int {
        #if canImport(Glibc)
        let socketType = Int32(SOCK_STREAM.rawValue)
        #else
        let socketType = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, socketType, 0)
        guard fd >= 0 else {
            throw HarnessError.setupFailed("socket(): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            throw HarnessError.setupFailed("bind(127.0.0.1:0): \(String(cString: strerror(errno)))")
        }
        var actual = sockaddr_in()
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else {
            throw HarnessError.setupFailed("getsockname(): \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: actual.sin_port))
    }
}
