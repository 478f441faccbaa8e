#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// A minimal HTTP/1.1 client for another node's keeld (`remote_transport = http`): one request per
/// connection, the whole exchange bounded by a deadline (connect, send and every read), chunked answers
/// decoded. Blocking; callers run it off the cooperative pool (`RemoteCommand` does).
struct KeeldClient {
    /// An answer: status code, headers (names lowercased) and body.
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    let host: String
    let port: Int

    /// Sends `method path` with `body` (JSON) and `token`, and reads the whole answer before `deadline`.
    /// Throws a message when the node cannot be reached or does not answer in time.
    func request(_ method: String, _ path: String, body: String?, token: String?, deadline: ContinuousClock.Instant) throws(ControlRequestError) -> Reply {
        let fd = try connect(deadline: deadline)
        defer { close(fd) }
        let payload = Array((body ?? "").utf8)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: close\r\nUser-Agent: keel\r\n"
        head += "Content-Length: \(payload.count)\r\n" + (body == nil ? "" : "Content-Type: application/json\r\n")
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + payload, deadline: deadline)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            try wait(fd, for: Int16(POLLIN), deadline: deadline, doing: "reading the answer")
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ControlRequestError("reading the answer of \(hostHeader) failed: \(String(cString: strerror(errno)))")
            }
            received += buffer[0..<count]
            guard received.count <= ProcessRunner.outputLimit * 2 else { throw ControlRequestError("answer of \(hostHeader) too large") }
        }
        return try Self.parse(received, from: hostHeader)
    }

    private var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// A non-blocking socket connected to `host:port` (each address of the name in turn).
    private func connect(deadline: ContinuousClock.Instant) throws(ControlRequestError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw ControlRequestError("unable to resolve host \"\(host)\": \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue), address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                do {
                    try wait(fd, for: Int16(POLLOUT), deadline: deadline, doing: "connecting")
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error == 0 { return fd }
                    lastError = String(cString: strerror(error))
                } catch {
                    lastError = error.message
                }
            } else {
                lastError = String(cString: strerror(errno))
            }
            close(fd)
        }
        throw ControlRequestError("unable to connect to keeld at \(hostHeader): \(lastError)")
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(ControlRequestError) {
        var sent = 0
        while sent < bytes.count {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline, doing: "sending the request")
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ControlRequestError("sending the request to \(hostHeader) failed: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    /// Waits until `fd` is ready for `events`, at most until `deadline`.
    private func wait(_ fd: Int32, for events: Int16, deadline: ContinuousClock.Instant, doing what: String) throws(ControlRequestError) {
        while true {
            let left = deadline - ContinuousClock().now
            guard left > .zero else { throw ControlRequestError("no answer from keeld at \(hostHeader) in time (\(what))") }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min(Double(left.components.seconds) * 1000 + Double(left.components.attoseconds) / 1e15 + 1, 60_000))
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR {
                throw ControlRequestError("waiting for keeld at \(hostHeader) failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The status, headers and (de-chunked) body of a complete HTTP/1.1 answer.
    static func parse(_ bytes: [UInt8], from peer: String) throws(ControlRequestError) -> Reply {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw ControlRequestError("incomplete answer from keeld at \(peer)")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusWords = lines.first?.split(separator: " ") ?? []
        guard statusWords.count >= 2, statusWords[0].hasPrefix("HTTP/"), let status = Int(statusWords[1]) else {
            throw ControlRequestError("not an HTTP answer from \(peer)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingWhitespace()
        }
        var body = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body, from: peer) }
        return Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    /// A chunked body decoded; throws when it ends before its last chunk.
    static func dechunk(_ bytes: [UInt8], from peer: String) throws(ControlRequestError) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].indices.first(where: { bytes[$0...].starts(with: [13, 10]) }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) else {
                throw ControlRequestError("the answer of keeld at \(peer) ended early")
            }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw ControlRequestError("the answer of keeld at \(peer) ended early") }
            out += bytes[start..<(start + size)]
            index = start + size + 2
            guard index <= bytes.count else { throw ControlRequestError("the answer of keeld at \(peer) ended early") }
        }
    }
}
