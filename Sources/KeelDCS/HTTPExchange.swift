#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeelCore

/// One HTTP/1.1 `POST` over a plain TCP socket with `Connection: close`, bounded by a deadline on the
/// monotonic clock for the connect, the send and the whole answer (nonblocking socket and `poll`): the
/// smallest client etcd's JSON gateway needs, with no event loop and no dependency.
enum HTTPExchange {
    /// An answer: status code and body (chunked encoding undone).
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    /// POSTs `body` (JSON) to `path` on `endpoint`; throws `DCSError` on a failure or when `timeout` passes.
    static func post(_ endpoint: DCSEndpoint, path: String, body: [UInt8], timeout: Double) throws -> Response {
        let deadline = monotonicNow() + timeout
        let fd = try connect(endpoint, deadline: deadline)
        defer { close(fd) }
        let head = "POST \(path) HTTP/1.1\r\nHost: \(endpoint.host):\(endpoint.port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try send(fd, Array(head.utf8) + body, deadline: deadline, endpoint: endpoint)
        let raw = try receiveAll(fd, deadline: deadline, endpoint: endpoint)
        return try parse(raw, endpoint: endpoint)
    }

    private static func connect(_ endpoint: DCSEndpoint, deadline: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list) == 0, let info = list else {
            throw DCSError("\(endpoint): cannot resolve \"\(endpoint.host)\"")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DCSError("\(endpoint): socket: \(errnoText())") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0, errno != EINPROGRESS {
            let text = errnoText()
            close(fd)
            throw DCSError("\(endpoint): connect: \(text)")
        }
        do {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline, endpoint: endpoint, what: "connect")
        } catch {
            close(fd)
            throw error
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            close(fd)
            throw DCSError("\(endpoint): connect: \(String(cString: strerror(error)))")
        }
        return fd
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8], deadline: Double, endpoint: DCSEndpoint) throws {
        var offset = 0
        while offset < bytes.count {
            try wait(fd, for: Int16(POLLOUT), deadline: deadline, endpoint: endpoint, what: "send")
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw DCSError("\(endpoint): send: \(errnoText())")
            }
            offset += n
        }
    }

    private static func receiveAll(_ fd: Int32, deadline: Double, endpoint: DCSEndpoint) throws -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            try wait(fd, for: Int16(POLLIN), deadline: deadline, endpoint: endpoint, what: "answer")
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return data }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw DCSError("\(endpoint): receive: \(errnoText())")
            }
            data.append(contentsOf: buffer[0..<n])
            if data.count > 4 << 20 { throw DCSError("\(endpoint): answer larger than 4 MB") }
        }
    }

    /// Waits until `fd` is ready for `events`, or throws at the deadline.
    private static func wait(_ fd: Int32, for events: Int16, deadline: Double, endpoint: DCSEndpoint, what: String) throws {
        while true {
            let left = deadline - monotonicNow()
            guard left > 0 else { throw DCSError("\(endpoint): no \(what) within the deadline") }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left * 1000 + 1, 60_000)))
            if r > 0 { return }
            if r < 0, errno != EINTR { throw DCSError("\(endpoint): poll: \(errnoText())") }
        }
    }

    /// Status line, headers, body (Content-Length, chunked, or up to the close).
    static func parse(_ raw: [UInt8], endpoint: DCSEndpoint) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = raw.firstRange(of: separator) else { throw DCSError("\(endpoint): incomplete HTTP answer") }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw DCSError("\(endpoint): not an HTTP answer")
        }
        let chunked = lines.dropFirst().contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
        let body = Array(raw[end.upperBound...])
        return Response(status: status, body: chunked ? dechunk(body) : body)
    }

    /// The payload of a chunked body (trailers dropped; a truncated last chunk is kept as far as it goes).
    static func dechunk(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < body.count {
            guard let lineEnd = body[i...].firstRange(of: [13, 10]) else { break }
            let sizeText = String(decoding: body[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(String(sizeText).trimmingWhitespace(), radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            let stop = min(body.count, start + size)
            out.append(contentsOf: body[start..<stop])
            i = stop + 2
        }
        return out
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
