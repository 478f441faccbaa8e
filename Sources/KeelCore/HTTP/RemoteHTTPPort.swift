/// `remote_http_port`: the port of the other nodes' keeld HTTP API for `remote_transport = http` (keel
/// takes the host from the node's conninfo). `PORT` for every node, `NODE_ID:PORT` pairs separated by
/// commas (with an optional bare `PORT` as the default for the nodes not listed), or '' for the port of
/// this node's own `http_listen` (nodes usually serve the same port).
public struct RemoteHTTPPort: Sendable, Equatable {
    /// The port of the nodes not listed (`nil`: none).
    public var defaultPort: Int?
    /// Per node ID.
    public var ports: [Int: Int]

    /// A setting of `defaultPort` and per-node `ports`.
    public init(defaultPort: Int?, ports: [Int: Int]) {
        self.defaultPort = defaultPort
        self.ports = ports
    }

    /// Parses `text`; '' gives no port at all. Throws a `KeelError` naming the key and the bad part.
    public static func parse(_ text: String) throws(KeelError) -> RemoteHTTPPort {
        var result = RemoteHTTPPort(defaultPort: nil, ports: [:])
        for part in text.split(separator: ",") {
            let item = part.filter { $0 != " " && $0 != "\t" }
            let pieces = item.split(separator: ":", omittingEmptySubsequences: false)
            switch pieces.count {
            case 1:
                guard let port = validPort(pieces[0]), result.defaultPort == nil else { throw invalid(text, item) }
                result.defaultPort = port
            case 2:
                guard let node = Int(pieces[0]), node > 0, let port = validPort(pieces[1]), result.ports[node] == nil else {
                    throw invalid(text, item)
                }
                result.ports[node] = port
            default:
                throw invalid(text, item)
            }
        }
        return result
    }

    /// The port of node `nodeID`'s keeld: its own entry, else the default, else the port of `httpListen`
    /// (this node's `http_listen`); `nil` when none applies.
    public func port(for nodeID: Int, httpListen: String) -> Int? {
        if let port = ports[nodeID] ?? defaultPort { return port }
        return (try? HTTPListenAddress.parse(httpListen))??.port
    }

    private static func validPort(_ text: Substring) -> Int? {
        guard let port = Int(text), (1...65535).contains(port) else { return nil }
        return port
    }

    private static func invalid(_ text: String, _ part: String) -> KeelError {
        KeelError(.badConfig, "invalid value \"\(text)\" for \"remote_http_port\" (at \"\(part)\")",
                  hint: "use PORT, or NODE_ID:PORT pairs separated by commas, or '' for the port of http_listen")
    }
}
