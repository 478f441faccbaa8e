#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeelCore

/// One HTTP/1.1 request over a plain TCP socket with `Connection: close`, the whole exchange (connect, send,
/// every read) bounded by one deadline on the monotonic clock (non-blocking socket and `poll`), chunked
/// answers decoded: the client for etcd's JSON gateway (`dcs`) and for another node's keeld
/// (`remote_transport = http`), with no event loop and no dependency. Blocking: callers run it off the
/// cooperative pool.
public enum HTTPExchange {
    /// An answer: status code, headers (names lowercased) and body (chunked encoding undone).
    public struct Response: Sendable {
        /// HTTP status code.
        public var status: Int
        /// Header values by lowercased name.
        public var headers: [String: String]
        /// The body, de-chunked.
        public var body: [UInt8]
    }

    /// A transport failure; `message` names the peer and the step (resolve, connect, send, read, parse).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What failed, for the log or the operator.
        public var message: String
        /// A failure.
        public init(_ message: String) { self.message = message }
        /// `message`.
        public var description: String { message }
    }

    /// Sends `method path` to `host:port` with `headers` and `body` (JSON when given), and reads the whole
    /// answer (at most `limit` bytes) before `deadline`. `peer` names the other end in messages ("keeld at
    /// h:p", an etcd endpoint). Throws `Failure` when the peer cannot be reached or does not answer in time.
    public static func send(_ method: String, _ path: String, host: String, port: Int, peer: String,
                            headers: [String: String] = [:], body: [UInt8]?, deadline: ContinuousClock.Instant,
                            limit: Int = 4 << 20) throws(Failure) -> Response {
        let fd = try connect(host: host, port: port, peer: peer, deadline: deadline)
        defer { close(fd) }
        let payload = body ?? []
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nConnection: close\r\nUser-Agent: keel\r\n"
        head += "Content-Length: \(payload.count)\r\n" + (body == nil ? "" : "Content-Type: application/json\r\n")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        try sendAll(fd, Array((head + "\r\n").utf8) + payload, peer: peer, deadline: deadline)
        return try parse(receiveAll(fd, peer: peer, limit: limit, deadline: deadline), from: peer)
    }

    /// A non-blocking socket connected to `host:port` (each address of the name in turn).
    private static func connect(host: String, port: Int, peer: String, deadline: ContinuousClock.Instant) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw Failure("unable to resolve host \"\(host)\": \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let flags = address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(address.pointee.ai_family, flags, address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            if errno == EINPROGRESS {
                do throws(Failure) {
                    try wait(fd, for: Int16(POLLOUT), peer: peer, deadline: deadline, doing: "connecting")
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
        throw Failure("unable to connect to \(peer): \(lastError)")
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], peer: String, deadline: ContinuousClock.Instant) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            try wait(fd, for: Int16(POLLOUT), peer: peer, deadline: deadline, doing: "sending the request")
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure("sending the request to \(peer) failed: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    private static func receiveAll(_ fd: Int32, peer: String, limit: Int, deadline: ContinuousClock.Instant) throws(Failure) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            try wait(fd, for: Int16(POLLIN), peer: peer, deadline: deadline, doing: "reading the answer")
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return received }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure("reading the answer of \(peer) failed: \(String(cString: strerror(errno)))")
            }
            received += buffer[0..<count]
            guard received.count <= limit else { throw Failure("answer of \(peer) too large") }
        }
    }

    /// Waits until `fd` is ready for `events`, at most until `deadline`.
    private static func wait(_ fd: Int32, for events: Int16, peer: String, deadline: ContinuousClock.Instant,
                             doing what: String) throws(Failure) {
        while true {
            let left = deadline - ContinuousClock().now
            guard left > .zero else { throw Failure("no answer from \(peer) in time (\(what))") }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min(Double(left.components.seconds) * 1000 + Double(left.components.attoseconds) / 1e15 + 1, 60_000))
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR {
                throw Failure("waiting for \(peer) failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// The status, headers and (de-chunked) body of a complete HTTP/1.1 answer.
    public static func parse(_ bytes: [UInt8], from peer: String) throws(Failure) -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw Failure("incomplete answer from \(peer)")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusWords = lines.first?.split(separator: " ") ?? []
        guard statusWords.count >= 2, statusWords[0].hasPrefix("HTTP/"), let status = Int(statusWords[1]) else {
            throw Failure("not an HTTP answer from \(peer)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingWhitespace()
        }
        var body = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body, from: peer) }
        return Response(status: status, headers: headers, body: body)
    }

    /// A chunked body decoded; throws when it ends before its last chunk.
    static func dechunk(_ bytes: [UInt8], from peer: String) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].indices.first(where: { bytes[$0...].starts(with: [13, 10]) }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) else {
                throw Failure("the answer of \(peer) ended early")
            }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw Failure("the answer of \(peer) ended early") }
            out += bytes[start..<(start + size)]
            index = start + size + 2
            guard index <= bytes.count else { throw Failure("the answer of \(peer) ended early") }
        }
    }
}
