/// `http_listen`: where keeld's HTTP API listens, `PORT`, `HOST:PORT` or `[IPv6]:PORT` ('' = off).
public struct HTTPListenAddress: Sendable, Equatable {
    /// The host or address to bind (`127.0.0.1` when only a port is given).
    public var host: String
    /// The TCP port (1–65535).
    public var port: Int

    /// An address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; `nil` for '' (the API is off). Throws a `KeelError` naming the key otherwise.
    public static func parse(_ text: String) throws(KeelError) -> HTTPListenAddress? {
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty { return nil }
        var host = "127.0.0.1"
        var portText = trimmed
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]"), trimmed[trimmed.index(after: close)...].hasPrefix(":") else {
                throw invalid(text)
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            portText = String(trimmed[trimmed.index(close, offsetBy: 2)...])
        } else if let colon = trimmed.lastIndex(of: ":") {
            host = String(trimmed[..<colon])
            portText = String(trimmed[trimmed.index(after: colon)...])
        }
        guard !host.isEmpty, !host.contains(" "), let port = Int(portText), (1...65535).contains(port) else { throw invalid(text) }
        return HTTPListenAddress(host: host, port: port)
    }

    private static func invalid(_ text: String) -> KeelError {
        KeelError(.badConfig, "invalid value \"\(text)\" for \"http_listen\"", hint: "use PORT, HOST:PORT or [IPv6]:PORT, or '' for off")
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
