import KeelCore
import KeelPostgres

extension ClusterShow {
    /// The evaluated listing: entries, issues (exit 25) and notes (warnings that are not faults, such as a
    /// standby attached in state `catchup`).
    public struct Listing: Sendable {
        public var entries: [Entry]
        public var issues: [String]
        public var notes: [String]
    }

    /// Pure evaluation of the listing: `probe` returns a node's live state, `nil` when unreachable.
    public static func evaluate(nodes: [NodeRecord], probe: (NodeRecord) -> Probe?) -> Listing {
        var listing = Listing(entries: [], issues: [], notes: [])
        let probes = Dictionary(uniqueKeysWithValues: nodes.map { ($0.nodeID, probe($0)) })
        for node in nodes {
            let info = (probes[node.nodeID] ?? nil)?.info
            var entry = Entry(id: node.nodeID, name: node.nodeName, role: node.type.rawValue, status: "running",
                              isPrimary: false, upstream: node.upstreamNodeID.flatMap { id in nodes.first { $0.nodeID == id }?.nodeName },
                              location: node.location, priority: node.priority, timeline: info?.timeline,
                              connectionString: Conninfo.masked(node.conninfo), reachable: info != nil,
                              inRecovery: info?.isInRecovery, active: node.active)
            status(&entry, node, info, &listing.issues)
            upstream(&entry, node, info, nodes: nodes, probes: probes, listing: &listing)
            listing.entries.append(entry)
        }
        flagFormerPrimaries(&listing)
        return listing
    }

    /// The node running as primary (not a witness) on the newest timeline, when one answers.
    public static func newestPrimary(_ entries: [Entry]) -> Entry? {
        entries.filter { $0.inRecovery == false && $0.role != NodeType.witness.rawValue && $0.timeline != nil }
            .max { ($0.timeline ?? 0) < ($1.timeline ?? 0) }
    }

    /// A node running as primary on an older timeline than another primary is a former primary: `!` and an
    /// issue, whatever its (possibly stale) record says.
    private static func flagFormerPrimaries(_ listing: inout Listing) {
        guard let newest = newestPrimary(listing.entries), let newestTimeline = newest.timeline else { return }
        for i in listing.entries.indices {
            let e = listing.entries[i]
            guard e.inRecovery == false, e.role != NodeType.witness.rawValue, let tli = e.timeline, tli < newestTimeline else { continue }
            listing.entries[i].statusMark = "!"
            listing.entries[i].isPrimary = false
            listing.issues.append("node \"\(e.name)\" (ID: \(e.id)) runs as primary on timeline \(tli) but node \"\(newest.name)\" "
                + "(ID: \(newest.id)) is the primary on timeline \(newestTimeline): it is a former primary and must be fenced or rejoined")
        }
    }

    /// The status column and its issues.
    private static func status(_ entry: inout Entry, _ node: NodeRecord, _ info: ServerInfo?, _ issues: inout [String]) {
        let label = node.nodeLabel
        switch (node.type, info) {
        case (_, nil):
            (entry.statusMark, entry.status) = node.active ? ("?", "unreachable") : ("-", "failed")
            issues.append(node.active ? "\(label) is registered as an active \(node.type.rawValue) but is unreachable"
                                      : "\(label) is registered as an inactive \(node.type.rawValue) and is not running")
        case (.primary, let i?) where i.isInRecovery:
            (entry.statusMark, entry.status) = ("!", "running as standby")
            issues.append("\(label) is registered as primary but running as standby")
        case (.standby, let i?) where !i.isInRecovery:
            (entry.statusMark, entry.status) = ("!", "running as primary")
            issues.append("\(label) is registered as standby but running as primary")
        case (.primary, _), (.witness, _):
            entry.statusMark = node.active ? "*" : "!"
            entry.isPrimary = node.type == .primary && node.active
            if !node.active { issues.append("\(label) is registered as inactive but is running") }
        default:
            entry.statusMark = node.active ? "" : "!"
            if !node.active { issues.append("\(label) is registered as inactive but is running") }
        }
    }

    /// The upstream column: where a standby actually streams from, and its walsender state there.
    private static func upstream(_ entry: inout Entry, _ node: NodeRecord, _ info: ServerInfo?, nodes: [NodeRecord],
                                 probes: [Int: Probe?], listing: inout Listing) {
        guard node.type == .standby else { return }
        let upstreamProbe = node.upstreamNodeID.flatMap { probes[$0] ?? nil }
        if let info, info.isInRecovery, let sender = info.walReceiverSender {
            let actual = nodes.first { Conninfo.names($0.conninfo, host: sender.host, port: sender.port) }
            entry.attachedTo = actual?.nodeName
            if let actual, actual.nodeID != node.upstreamNodeID {
                listing.issues.append("\(node.nodeLabel) is registered with upstream \"\(entry.upstream ?? "(none)")\" but is attached to \"\(actual.nodeName)\"")
                entry.upstreamMark = "!"
                return
            }
        } else if upstreamProbe == nil, entry.upstream != nil {
            entry.upstreamMark = "?"
        }
        entry.replicationState = upstreamProbe?.replication[node.nodeName]
        if let state = entry.replicationState, state != "streaming", let name = entry.upstream {
            listing.notes.append("\(node.nodeLabel) is attached to its upstream node \"\(name)\" in state \"\(state)\"")
        }
    }
}
