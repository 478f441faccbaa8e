import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that the test controls: it forwards to `targetPort` until `dropping` is set,
/// then silently swallows everything — new connections are accepted and read, nothing is forwarded or
/// answered, nothing is refused — as a network path that drops packets does. Stopped by `stop()` (and
/// on deinit): its sockets closed, its threads ended.
final class DroppingProxy: @unchecked Sendable {
    let port: Int
    private let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var drop = false
    private var stopped = false
    private var sockets: Set<Int32> = []

    /// Listens on a free port (bind 0) and forwards to `targetPort` on 127.0.0.1.
    init(targetPort: Int) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw ProxyError(message: "cannot listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    struct ProxyError: Error { let message: String }

    /// True: swallow everything from now on (also on the connections already open).
    var dropping: Bool {
        get { lock.withLock { drop } }
        set { lock.withLock { drop = newValue } }
    }

    /// Closes the listener and every connection.
    func stop() {
        let open: Set<Int32> = lock.withLock {
            guard !stopped else { return [] }
            stopped = true
            return sockets
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if lock.withLock({ stopped }) { return } else { continue } }
            guard track(client) else { close(client); return }
            Thread.detachNewThread { [self] in connect(client) }
        }
    }

    private func track(_ fd: Int32) -> Bool {
        lock.withLock {
            guard !stopped else { return false }
            sockets.insert(fd)
            return true
        }
    }

    private func untrack(_ fd: Int32) {
        lock.withLock { _ = sockets.remove(fd) }
        close(fd)
    }

    private func connect(_ client: Int32) {
        if dropping {
            pump(from: client, to: nil)
            untrack(client)
            return
        }
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: targetPort)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, track(server) else {
            close(server)
            untrack(client)
            return
        }
        let other = DispatchGroup()
        other.enter()
        Thread.detachNewThread { [self] in
            pump(from: server, to: client)
            shutdown(client, Int32(SHUT_RDWR))
            other.leave()
        }
        pump(from: client, to: server)
        shutdown(server, Int32(SHUT_RDWR))
        other.wait()
        untrack(client)
        untrack(server)
    }

    /// Copies `from` to `to` until either ends; while dropping (or with no `to`), reads and discards.
    private func pump(from: Int32, to: Int32?) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            guard let to, !dropping else { continue }
            var offset = 0
            while offset < n {
                let w = buffer[offset..<n].withUnsafeBytes { send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if w <= 0 { return }
                offset += w
            }
        }
    }
}
