import KeelCore
import KeelPostgres

/// `keel node status [--csv] [--json]`: an overview of this node (version, role, archiving, walsenders,
/// slots, upstream, lag). Source: repmgr 5.3 `do_node_status`.
public struct NodeStatus {
    public let context: OpsContext

    public init(context: OpsContext) { self.context = context }

    /// Prints the overview; returns 0, or 25 when an issue was found (registered role differs, inactive
    /// slots, not streaming). Throws `KeelError` 6 when the node is unreachable.
    public func run() async throws -> ExitStatus {
        let conn = try context.connectLocal()
        let o = try context.query { try NodeCheck.gather(conn, nodeID: context.config.nodeID) }
        let info = o.info
        let role = info.isInRecovery ? "standby" : (o.record?.type == .witness ? "witness" : "primary")
        var issues: [String] = []
        if let r = o.record, r.type.rawValue != role { issues.append("node is registered as \(r.type.rawValue) but running as \(role)") }
        if o.record == nil { issues.append("node is not registered") }
        let inactiveSlots = o.slots.filter { !$0.value }.count
        if inactiveSlots > 0 { issues.append("\(inactiveSlots) inactive replication slot(s)") }
        if info.isInRecovery, info.walReceiverStatus != "streaming" { issues.append("node is not streaming from its upstream") }
        let upstreamName = o.record?.upstreamNodeID.flatMap { id in try? MetadataStore(connection: conn).node(id: id)?.nodeName }
        let items: [(String, String)] = [
            ("PostgreSQL version", info.version.split(separator: " ").first.map(String.init) ?? info.version),
            ("Total data size", "\(info.totalDataSize / 1_048_576) MB"),
            ("Conninfo", Conninfo.masked(context.config.conninfo)),
            ("Role", role),
            ("WAL archiving", info.archiveMode == "off" ? "off" : "enabled"),
            ("Archive command", info.archiveCommand.isEmpty ? "(none)" : info.archiveCommand),
            ("Replication connections", "\(info.walSendersInUse) (of maximal \(info.maxWalSenders))"),
            ("Replication slots", "\(o.slots.count) physical (of maximal \(info.maxReplicationSlots); \(inactiveSlots) inactive)"),
            ("Upstream node", info.isInRecovery ? (upstreamName ?? "(unknown)") + " (\(info.walReceiverStatus ?? "not streaming"))" : "(none)"),
            ("Timeline", String(info.timeline)),
            ("Last received LSN", info.lsn?.description ?? "(none)"),
            ("Last replayed LSN", info.isInRecovery ? (info.replayLSN?.description ?? "(none)") : "n/a"),
            ("Replication lag", info.isInRecovery ? "\(info.replayLagSeconds ?? 0) seconds" : "n/a"),
        ]
        switch context.format {
        case .csv:
            context.output(items.map { CSV.row([$0.0, $0.1], quoteAll: true) }.joined(separator: "\n"))
        case .json:
            var object = Dictionary(uniqueKeysWithValues: items.map { ($0.0, $0.1) })
            object["Issues"] = issues.joined(separator: "; ")
            context.output(JSON.render(object))
        default:
            let name = o.record?.nodeName ?? context.config.nodeName
            context.output("Node \"\(name)\":\n" + items.map { "\t\($0.0): \($0.1)" }.joined(separator: "\n"))
            if !issues.isEmpty {
                context.logger.warning("following issue(s) were detected:\n\(issues.map { "  - \($0)" }.joined(separator: "\n"))")
            }
        }
        return issues.isEmpty ? .success : .nodeStatus
    }
}
