/// One member of the consensus store, as named in `dcs`.
public struct DCSEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address (an IPv6 address without its brackets).
    public var host: String
    /// TCP port.
    public var port: Int

    /// An endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://host:port`.
    public var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// The consensus-store keys of a configuration: `dcs`, `dcs_ttl`, `dcs_prefix`, `cluster_name`,
/// `dcs_failsafe`, and the deadlines derived from them.
public struct DCSSettings: Sendable, Equatable {
    /// The etcd members to try, in order.
    public var endpoints: [DCSEndpoint]
    /// `dcs_ttl`: seconds of the leader lease.
    public var ttl: Double
    /// Every key lives under this prefix (ends with `/`).
    public var prefix: String
    /// `dcs_failsafe`.
    public var failsafe: Bool

    /// Settings as given.
    public init(endpoints: [DCSEndpoint], ttl: Double, prefix: String, failsafe: Bool = false) {
        self.endpoints = endpoints
        self.ttl = ttl
        self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.failsafe = failsafe
    }

    /// The settings of a loaded configuration; `nil` when `dcs` is empty (or invalid: the configuration's
    /// validation reports that).
    public init?(config: KeelConfig) {
        guard let endpoints = try? Self.parse(config.string("dcs")), !endpoints.isEmpty else { return nil }
        let prefix = config.string("dcs_prefix")
        self.init(endpoints: endpoints, ttl: Double(config.int("dcs_ttl")),
                  prefix: prefix.isEmpty ? "/keel/\(config.string("cluster_name"))/" : prefix,
                  failsafe: config.bool("dcs_failsafe"))
    }

    /// The leader key.
    public var leaderKey: String { prefix + "leader" }

    /// The status key of node `id`.
    public func memberKey(_ id: Int) -> String { prefix + "members/\(id)" }

    /// `c`: the deadline of one store operation, all endpoints tried in turn: `dcs_ttl` / 10, within 0.5…3 s.
    public var callTimeout: Double { min(3, max(0.5, ttl / 10)) }

    /// Parses `dcs` (`etcd:http://HOST:PORT[,http://HOST:PORT…]`; `''` = no store: an empty list).
    /// Throws a message naming what is wrong.
    public static func parse(_ value: String) throws(KeelError) -> [DCSEndpoint] {
        let text = value.trimmingWhitespace()
        guard !text.isEmpty else { return [] }
        guard text.hasPrefix("etcd:") else {
            throw KeelError(.badConfig, "unsupported store \"\(text)\": use etcd:http://HOST:PORT[,http://HOST:PORT...]")
        }
        let list = text.dropFirst("etcd:".count).split(separator: ",", omittingEmptySubsequences: false)
        var endpoints: [DCSEndpoint] = []
        for item in list {
            endpoints.append(try endpoint(String(item).trimmingWhitespace()))
        }
        return endpoints
    }

    private static func endpoint(_ url: String) throws(KeelError) -> DCSEndpoint {
        guard url.hasPrefix("http://") else {
            let hint = url.hasPrefix("https://") ? " (TLS is not supported: reach etcd over a private network or a local proxy)" : ""
            throw KeelError(.badConfig, "invalid etcd endpoint \"\(url)\": expected http://HOST:PORT\(hint)")
        }
        var rest = Substring(url.dropFirst("http://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        var portText: Substring = "2379"
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw KeelError(.badConfig, "invalid etcd endpoint \"\(url)\": unclosed [") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw KeelError(.badConfig, "invalid etcd endpoint \"\(url)\": expected http://[ADDRESS]:PORT")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@") else {
            throw KeelError(.badConfig, "invalid etcd endpoint \"\(url)\": expected http://HOST:PORT")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw KeelError(.badConfig, "invalid etcd endpoint \"\(url)\": port \"\(portText)\" is not in 1-65535")
        }
        return DCSEndpoint(host: String(host), port: port)
    }
}
