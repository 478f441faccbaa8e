import KeelCore
import KeelPostgres

/// `keel cluster show [--compact] [--csv] [--json]`: every registered node with its role, live status,
/// upstream, location, priority, current timeline and (masked) conninfo, polled directly.
/// Statuses as repmgr 5.3 prints them (`* running`, `running`, `! running as primary`, `? unreachable`,
/// `- failed`); exit 25 (ERR_NODE_STATUS) when an issue is detected. Source: `do_cluster_show`.
public struct ClusterShow {
    /// One node's line, also the JSON object of `--json`.
    public struct Entry: Sendable, Encodable, Equatable {
        public var id: Int
        public var name: String
        public var role: String
        public var status: String
        public var upstream: String
        public var location: String
        public var priority: Int
        public var timeline: Int?
        public var connectionString: String
        public var reachable: Bool
        public var inRecovery: Bool?
        public var active: Bool
    }

    public let context: OpsContext
    public let compact: Bool

    public init(context: OpsContext, compact: Bool = false) {
        self.context = context
        self.compact = compact
    }

    /// Prints the listing; returns the exit status (0, or 25 when issues were found). Throws `KeelError` 6
    /// when the node the metadata is read from is unreachable.
    public func run() async throws -> ExitStatus {
        let source: Connection
        if context.remote.isEmpty {
            source = try context.connectLocal()
        } else {
            source = try context.connect(try context.remote.conninfo(defaultsFrom: context.config.conninfo), what: "node")
        }
        let nodes = try context.query { try MetadataStore(connection: source).nodes() }
        let (entries, issues) = Self.evaluate(nodes: nodes, probe: { node in
            guard let conn = try? Connection(conninfo: node.conninfo) else { return nil }
            return try? ServerInfo.read(conn)
        })
        switch context.format {
        case .csv:
            context.output(entries.map { e in
                CSV.row([String(e.id), e.reachable ? "0" : "-1", e.inRecovery.map { $0 ? "1" : "0" } ?? "-1"])
            }.joined(separator: "\n"))
        case .json:
            context.output(JSON.render(entries))
        default:
            var headers = ["ID", "Name", "Role", "Status", "Upstream", "Location", "Priority", "Timeline"]
            if !compact { headers.append("Connection string") }
            let rows = entries.map { e in
                // repmgr aligns the bare status under the marked ones: "* running" / "  running".
                let status = e.status.first.map { "*!?-".contains($0) } == true ? e.status : "  " + e.status
                var row = [String(e.id), e.name, e.role, status, e.upstream, e.location, String(e.priority), e.timeline.map(String.init) ?? "?"]
                if !compact { row.append(e.connectionString) }
                return row
            }
            context.output(TextTable(headers: headers, rows: rows).render())
            if !issues.isEmpty {
                context.logger.warning("following issues were detected\n\(issues.map { "  - \($0)" }.joined(separator: "\n"))")
            }
        }
        return issues.isEmpty ? .success : .nodeStatus
    }

    /// Pure evaluation of the listing: `probe` returns a node's live state, `nil` when unreachable.
    /// Returns the entries and the issue sentences (role mismatch, unreachable, upstream mismatch).
    public static func evaluate(nodes: [NodeRecord], probe: (NodeRecord) -> ServerInfo?) -> ([Entry], [String]) {
        var issues: [String] = []
        let infos = Dictionary(uniqueKeysWithValues: nodes.map { ($0.nodeID, probe($0)) })
        let entries = nodes.map { node -> Entry in
            let info = infos[node.nodeID] ?? nil
            let label = node.nodeLabel
            var status: String
            switch (node.type, info) {
            case (_, nil):
                status = node.active ? "? unreachable" : "- failed"
                issues.append(node.active ? "\(label) is registered as an active \(node.type.rawValue) but is unreachable"
                                          : "\(label) is registered as an inactive \(node.type.rawValue) and is not running")
            case (.primary, let i?) where i.isInRecovery:
                status = "! running as standby"
                issues.append("\(label) is registered as primary but running as standby")
            case (.standby, let i?) where !i.isInRecovery:
                status = "! running as primary"
                issues.append("\(label) is registered as standby but running as primary")
            case (.primary, _), (.witness, _):
                status = node.active ? "* running" : "! running"
                if !node.active { issues.append("\(label) is registered as inactive but is running") }
            default:
                status = node.active ? "running" : "! running"
                if !node.active { issues.append("\(label) is registered as inactive but is running") }
            }
            var upstream = node.upstreamNodeID.flatMap { id in nodes.first { $0.nodeID == id }?.nodeName } ?? ""
            if node.type == .standby, let info, info.isInRecovery, let sender = info.walReceiverSender {
                let actual = nodes.first { Conninfo.names($0.conninfo, host: sender.host, port: sender.port) }
                if let actual, actual.nodeID != node.upstreamNodeID {
                    issues.append("\(label) is registered with upstream \"\(upstream.isEmpty ? "(none)" : upstream)\" but is attached to \"\(actual.nodeName)\"")
                    upstream = "! \(actual.nodeName)"
                }
            } else if let id = node.upstreamNodeID, node.type == .standby, (infos[id] ?? nil) == nil, !upstream.isEmpty {
                upstream = "? \(upstream)"
            }
            return Entry(id: node.nodeID, name: node.nodeName, role: node.type.rawValue, status: status, upstream: upstream,
                         location: node.location, priority: node.priority, timeline: info?.timeline,
                         connectionString: Conninfo.masked(node.conninfo), reachable: info != nil,
                         inRecovery: info?.isInRecovery, active: node.active)
        }
        return (entries, issues)
    }
}
