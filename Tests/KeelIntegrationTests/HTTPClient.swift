import Foundation

/// A minimal HTTP/1.1 client for keeld's API on loopback: one request per connection, a socket timeout
/// (5 s by default), the status code, headers and (de-chunked) body returned.
enum HTTPClient {
    struct Reply {
        var status: Int
        var body: String
        var chunked = false
    }

    enum Failure: Error, CustomStringConvertible {
        case connect(Int32), io(String)
        var description: String {
            switch self {
            case .connect(let e): "connect failed: \(String(cString: strerror(e)))"
            case .io(let what): what
            }
        }
    }

    static func request(port: Int, _ method: String = "GET", _ path: String, token: String? = nil, body: String = "",
                        timeout: Int = 5) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.io("socket failed") }
        defer { close(fd) }
        var socketTimeout = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &socketTimeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &socketTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure.connect(errno) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure.io("send failed") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw Failure.io("no complete answer within \(timeout) s") }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n").first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw Failure.io("not an HTTP answer: \(text)") }
        let answerHead = text.range(of: "\r\n\r\n").map { String(text[..<$0.lowerBound]) } ?? text
        let raw = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        let chunked = answerHead.lowercased().contains("transfer-encoding: chunked")
        return Reply(status: status, body: chunked ? dechunk(raw) : raw, chunked: chunked)
    }

    /// A chunked body decoded (sizes in hex, each chunk followed by CRLF, a 0-size chunk last).
    static func dechunk(_ raw: String) -> String {
        let bytes = Array(raw.utf8)
        var out: [UInt8] = []
        var index = 0
        while let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
              let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16), size > 0,
              lineEnd + 2 + size <= bytes.count {
            out += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
        return String(decoding: out, as: UTF8.self)
    }
}
