import KeelCore
import KeelPostgres

/// `keel cluster show [--compact] [--csv] [--json]`: every registered node with its role, live status,
/// upstream, location, priority, current timeline and (masked) conninfo, polled directly.
/// The text form prints statuses as repmgr 5.3 does (`* running`, `running`, `! running as primary`,
/// `? unreachable`, `- failed`; upstream `! name` / `? name`); `--json` carries the plain values.
/// Exit 25 (ERR_NODE_STATUS) when an issue is detected. Source: `do_cluster_show`.
public struct ClusterShow {
    /// One node's line, also the JSON object of `--json` (snake-case keys).
    public struct Entry: Sendable, Encodable, Equatable {
        public var id: Int
        public var name: String
        public var role: String
        /// `running`, `running as primary`, `running as standby`, `unreachable` or `failed`.
        public var status: String
        /// The registered primary running as one, active.
        public var isPrimary: Bool
        /// The registered upstream node's name; `nil` when the node has none.
        public var upstream: String?
        /// The node a standby's WAL receiver actually streams from, when known.
        public var attachedTo: String?
        /// The standby's walsender state on its upstream (`streaming`, `catchup`, …), when the upstream answered.
        public var replicationState: String?
        public var location: String
        public var priority: Int
        public var timeline: Int?
        public var connectionString: String
        public var reachable: Bool
        public var inRecovery: Bool?
        public var active: Bool
        /// repmgr's marks for the text form (`*`, `!`, `?`, `-` or empty); not part of the JSON.
        public var statusMark: String = ""
        public var upstreamMark: String = ""

        enum CodingKeys: String, CodingKey {
            case id, name, role, status, isPrimary, upstream, attachedTo, replicationState, location, priority, timeline
            case connectionString, reachable, inRecovery, active
        }

        /// Every key is present; unknown values are `null` (JSON's default omits them).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(role, forKey: .role)
            try c.encode(status, forKey: .status)
            try c.encode(isPrimary, forKey: .isPrimary)
            try c.encode(upstream, forKey: .upstream)
            try c.encode(attachedTo, forKey: .attachedTo)
            try c.encode(replicationState, forKey: .replicationState)
            try c.encode(location, forKey: .location)
            try c.encode(priority, forKey: .priority)
            try c.encode(timeline, forKey: .timeline)
            try c.encode(connectionString, forKey: .connectionString)
            try c.encode(reachable, forKey: .reachable)
            try c.encode(inRecovery, forKey: .inRecovery)
            try c.encode(active, forKey: .active)
        }

        /// The status column as repmgr prints it: the mark, or two spaces, then the status.
        public var statusText: String { statusMark.isEmpty ? "  " + status : statusMark + " " + status }

        /// The upstream column as repmgr prints it: `! actual` for a mismatch, `? name` when unreachable.
        public var upstreamText: String {
            if upstreamMark == "!", let attachedTo { return "! " + attachedTo }
            return (upstreamMark.isEmpty ? "" : upstreamMark + " ") + (upstream ?? "")
        }
    }

    /// What polling one node gave: its state, and the walsender states it lists (by application name).
    public struct Probe: Sendable {
        public var info: ServerInfo
        public var replication: [String: String]
        public init(info: ServerInfo, replication: [String: String]) {
            self.info = info
            self.replication = replication
        }
    }

    public let context: OpsContext
    public let compact: Bool

    public init(context: OpsContext, compact: Bool = false) {
        self.context = context
        self.compact = compact
    }

    /// Every node polled at the same time (connect bounded by `connect_timeout=5`), so the listing takes as long
    /// as the slowest node rather than the sum of all; `nil` for a node that did not answer.
    static func probeAll(_ nodes: [NodeRecord]) -> [Int: Probe?] {
        let probed = concurrentMap(nodes, name: "keel-show-probe") { node -> Probe? in
            let conninfo = Conninfo.setting("connect_timeout", to: "5", in: node.conninfo)
            guard let conn = try? Connection(conninfo: conninfo), let info = try? ServerInfo.read(conn, dataSize: false) else {
                return nil
            }
            return Probe(info: info, replication: (try? ReplicationStates.read(conn)) ?? [:])
        }
        return Dictionary(zip(nodes.map(\.nodeID), probed), uniquingKeysWith: { first, _ in first })
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
        var nodes = try context.query { try MetadataStore(connection: source).nodes() }
        var probes = Self.probeAll(nodes)
        var listing = Self.evaluate(nodes: nodes, probe: { node in probes[node.nodeID] ?? nil })
        // A former primary's own metadata still names it the primary: read the metadata of the primary on
        // the newest timeline instead, so that every node shows the same cluster.
        if let newest = Self.newestPrimary(listing.entries), let record = nodes.first(where: { $0.nodeID == newest.id }),
           (try? ServerInfo.read(source, dataSize: false))?.timeline ?? 0 < (newest.timeline ?? 0),
           let conn = try? Connection(conninfo: Conninfo.setting("connect_timeout", to: "5", in: record.conninfo)),
           let fresh = try? MetadataStore(connection: conn).nodes() {
            nodes = fresh
            probes.merge(Self.probeAll(fresh.filter { probes[$0.nodeID] == nil }), uniquingKeysWith: { known, _ in known })
            listing = Self.evaluate(nodes: nodes, probe: { node in probes[node.nodeID] ?? nil })
        }
        switch context.format {
        case .csv:
            context.output(listing.entries.map { e in
                CSV.row([String(e.id), e.reachable ? "0" : "-1", e.inRecovery.map { $0 ? "1" : "0" } ?? "-1"])
            }.joined(separator: "\n"))
        case .json:
            context.output(JSON.render(listing.entries))
        default:
            context.output(renderTable(listing.entries))
            if !listing.issues.isEmpty {
                context.logger.warning("following issues were detected\n\(listing.issues.map { "  - \($0)" }.joined(separator: "\n"))")
            }
            if !listing.notes.isEmpty {
                context.logger.warning("following notes apply\n\(listing.notes.map { "  - \($0)" }.joined(separator: "\n"))")
            }
        }
        return listing.issues.isEmpty ? .success : .nodeStatus
    }

    private func renderTable(_ entries: [Entry]) -> String {
        var headers = ["ID", "Name", "Role", "Status", "Upstream", "Location", "Priority", "Timeline"]
        if !compact { headers.append("Connection string") }
        let rows = entries.map { e in
            var row = [String(e.id), e.name, e.role, e.statusText, e.upstreamText, e.location, String(e.priority),
                       e.timeline.map(String.init) ?? "?"]
            if !compact { row.append(e.connectionString) }
            return row
        }
        return TextTable(headers: headers, rows: rows).render()
    }
}
