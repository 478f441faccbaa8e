#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelDCS
import KeelPostgres

/// `keel service status [--csv] [--json]` (also `keel daemon status`): every node with its PostgreSQL
/// status and its keeld — running or not, PID, paused, when it last saw its upstream — as repmgr 5.3
/// `do_service_status` prints them. keeld reports through `repmgr.keel_daemon` on the primary: a daemon
/// counts as running when its heartbeat is at most 3 × `monitor_interval_secs` (and 10 s) old. With a consensus
/// store (`dcs`) the paused column is the pause in force (`PauseRule`: etcd's pause key first).
public struct ServiceStatus {
    /// One line, also the JSON object of `--json`.
    public struct Entry: Sendable, Encodable, Equatable {
        public var id: Int
        public var name: String
        public var role: String
        /// The plain status as `cluster show --json` gives it (`running`, `unreachable`, …).
        public var status: String
        /// The registered upstream's name; `nil` when none.
        public var upstream: String?
        public var pgRunning: Bool
        public var daemonRunning: Bool
        public var pid: Int?
        public var paused: Bool
        public var priority: Int
        public var location: String
        /// Seconds since the node's daemon last saw its upstream (standbys), `nil` when unknown.
        public var upstreamLastSeenSeconds: Int?
        /// The status and upstream columns as the text form prints them (repmgr's marks); not in the JSON.
        public var statusText = ""
        public var upstreamText = ""

        enum CodingKeys: String, CodingKey {
            case id, name, role, status, upstream, pgRunning, daemonRunning, pid, paused, priority, location, upstreamLastSeenSeconds
        }
    }

    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Prints the listing; returns 0, or 25 when a node or daemon is not running. Throws `KeelError` 6.
    public func run() async throws -> ExitStatus {
        let local = try context.connectLocal()
        // Daemons report to the primary: read there (a witness's copy of the table is not refreshed).
        let source = (try? context.connectPrimary(via: local))?.0 ?? local
        let store = MetadataStore(connection: source)
        let nodes = try context.query { try store.nodes() }
        let daemons = try context.query { try store.daemonRecords() }
        let shown = ClusterShow.evaluate(nodes: nodes) { node in
            (try? Connection(conninfo: node.conninfo)).flatMap { try? ServerInfo.read($0) }
                .map { ClusterShow.Probe(info: $0, replication: [:]) }
        }.entries
        let fresh = Double(max(3 * context.config.monitorIntervalSecs, 10))
        let paused = pauseInForce(nodes: nodes, daemons: daemons)
        let entries = zip(nodes, shown).map { node, e -> Entry in
            let d = daemons.first { $0.nodeID == node.nodeID }
            let running = d?.pid != nil && (d?.secondsSinceHeartbeat ?? .infinity) <= fresh
            return Entry(id: node.nodeID, name: node.nodeName, role: node.type.rawValue, status: e.status, upstream: e.upstream,
                         pgRunning: e.reachable, daemonRunning: running, pid: running ? d?.pid : nil, paused: paused[node.nodeID] ?? false,
                         priority: node.priority, location: node.location,
                         upstreamLastSeenSeconds: node.type == .standby ? d?.upstreamLastSeenSeconds.map { Int($0.rounded()) } : nil,
                         statusText: e.statusText, upstreamText: e.upstreamText)
        }
        switch context.format {
        case .csv:
            context.output(entries.map { e in
                CSV.row([String(e.id), e.name, e.role, e.pgRunning ? "1" : "0", e.daemonRunning ? "1" : "0", e.pid.map(String.init) ?? "-1",
                         e.paused ? "1" : "0", String(e.priority), e.upstreamLastSeenSeconds.map(String.init) ?? "-1", e.location])
            }.joined(separator: "\n"))
        case .json:
            context.output(JSON.render(entries))
        default:
            let rows = entries.map { e -> [String] in
                let seen = e.upstreamLastSeenSeconds.map { "\($0) second(s) ago" } ?? "n/a"
                return [String(e.id), e.name, e.role, e.statusText, e.upstreamText, e.daemonRunning ? "running" : "not running",
                        e.pid.map(String.init) ?? "n/a", e.paused ? "yes" : "no", seen]
            }
            context.output(TextTable(headers: ["ID", "Name", "Role", "Status", "Upstream", "keeld", "PID", "Paused?", "Upstream last seen"],
                                     rows: rows).render())
        }
        return entries.allSatisfy { $0.pgRunning && $0.daemonRunning } ? .success : .nodeStatus
    }

    /// Each node's pause: the metadata flag, or with `dcs` the pause in force (a warning when etcd does not answer).
    private func pauseInForce(nodes: [NodeRecord], daemons: [DaemonRecord]) -> [Int: Bool] {
        let flags = Dictionary(nodes.map { node in (node.nodeID, daemons.first { $0.nodeID == node.nodeID }?.paused ?? false) },
                               uniquingKeysWith: { a, _ in a })
        guard let dcs = DCSSettings(config: context.config) else { return flags }
        let (paused, failure) = PauseKeys.effective(metadata: flags, store: EtcdStore(dcs), settings: dcs)
        if let failure { context.logger.warning("unable to read the pause state from etcd (\(failure)): showing the metadata flag") }
        return paused
    }
}
