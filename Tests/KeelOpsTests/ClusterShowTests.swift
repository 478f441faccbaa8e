import Testing
import KeelCore
@testable import KeelOps
@testable import KeelPostgres

/// `cluster show`'s status column, from registered records and what each node says (no database).
@Suite("cluster show statuses")
struct ClusterShowTests {
    static func info(recovery: Bool, timeline: Int = 1, receivingFrom port: String? = nil) -> ServerInfo {
        ServerInfo(isInRecovery: recovery, systemIdentifier: "7", timeline: timeline, versionNumber: 150018, version: "15.18",
                   lsn: LSN(0x3000000), replayLSN: nil, replayLagSeconds: 0, maxWalSenders: 10, walSendersInUse: 0,
                   maxReplicationSlots: 10, replicationSlotsInUse: 0, walReceiverStatus: port == nil ? nil : "streaming",
                   walReceiverConninfo: port.map { "host=127.0.0.1 port=\($0)" }, archiveMode: "off", archiveCommand: "",
                   totalDataSize: 0)
    }

    static func probe(recovery: Bool, timeline: Int = 1, receivingFrom port: String? = nil) -> ClusterShow.Probe {
        ClusterShow.Probe(info: info(recovery: recovery, timeline: timeline, receivingFrom: port), replication: [:])
    }

    static func node(_ id: Int, _ type: NodeType, upstream: Int? = nil, active: Bool = true) -> NodeRecord {
        NodeRecord(nodeID: id, upstreamNodeID: upstream, active: active, nodeName: "node\(id)", type: type,
                   conninfo: "host=127.0.0.1 port=540\(id) user=repmgr password=hunter2", replicationUser: "repmgr", configFile: "/k.conf")
    }

    @Test("status per role and live state", arguments: [
        (NodeType.primary, true, false as Bool?, "* running"),
        (.primary, true, true, "! running as standby"),
        (.primary, true, nil, "? unreachable"),
        (.primary, false, nil, "- failed"),
        (.primary, false, false, "! running"),
        (.standby, true, true, "running"),
        (.standby, true, false, "! running as primary"),
        (.standby, true, nil, "? unreachable"),
        (.standby, false, nil, "- failed"),
        (.witness, true, false, "* running"),
    ])
    func status(type: NodeType, active: Bool, recovery: Bool?, expected: String) {
        let nodes = [Self.node(1, type, active: active)]
        let listing = ClusterShow.evaluate(nodes: nodes) { _ in recovery.map { Self.probe(recovery: $0) } }
        let (entries, issues) = (listing.entries, listing.issues)
        #expect(entries.first?.statusText.trimmingCharacters(in: .whitespaces) == expected)
        #expect(entries.first?.status == String(expected.drop { "*!?- ".contains($0) }))
        #expect(entries.first?.isPrimary == (type == .primary && expected == "* running"))
        #expect(issues.isEmpty == (expected == "* running" || expected == "running"))
    }

    @Test("a former primary's own stale metadata: the node on the older timeline is flagged '! running' with a warning")
    func formerPrimaryOwnMetadata() {
        // node1's metadata still says it is the active primary and node2 a standby; node2 was promoted (timeline 2).
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1)]
        let listing = ClusterShow.evaluate(nodes: nodes) { node in
            node.nodeID == 1 ? Self.probe(recovery: false, timeline: 1) : Self.probe(recovery: false, timeline: 2)
        }
        #expect(listing.entries[0].statusText == "! running")
        #expect(!listing.entries[0].isPrimary)
        #expect(listing.issues.contains { $0.contains("\"node1\" (ID: 1) runs as primary on timeline 1") && $0.contains("former primary") })
        #expect(ClusterShow.newestPrimary(listing.entries)?.id == 2)
    }

    @Test("a standby attached to another node than its registered upstream is flagged")
    func upstreamMismatch() {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1), Self.node(3, .standby, upstream: 1)]
        let listing = ClusterShow.evaluate(nodes: nodes) { node in
            switch node.nodeID {
            case 1: Self.probe(recovery: false)
            case 2: Self.probe(recovery: true, receivingFrom: "5401")
            default: Self.probe(recovery: true, receivingFrom: "5402")
            }
        }
        let (entries, issues) = (listing.entries, listing.issues)
        #expect(entries[1].upstreamText == "node1")
        #expect(entries[2].upstreamText == "! node2")
        #expect(entries[2].upstream == "node1")
        #expect(entries[2].attachedTo == "node2")
        #expect(issues.count == 1)
        #expect(issues[0].contains("node3"))
    }

    @Test("the connection string column never shows a password")
    func masked() {
        let entries = ClusterShow.evaluate(nodes: [Self.node(1, .primary)]) { _ in Self.probe(recovery: false) }.entries
        #expect(!entries[0].connectionString.contains("hunter2"))
        #expect(entries[0].connectionString.contains("password=..."))
    }

    @Test("the timeline column shows the node's current timeline, unknown when unreachable")
    func timeline() {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1)]
        let entries = ClusterShow.evaluate(nodes: nodes) { $0.nodeID == 1 ? Self.probe(recovery: false, timeline: 3) : nil }.entries
        #expect(entries[0].timeline == 3)
        #expect(entries[1].timeline == nil)
        #expect(entries[1].upstream == "node1")
        #expect(entries[1].upstreamText == "node1")
        #expect(entries[0].upstream == nil)
    }

    @Test("a standby in catchup on its upstream: a note naming the state, not an issue; the upstream column stays plain")
    func catchup() {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1)]
        let listing = ClusterShow.evaluate(nodes: nodes) { node in
            node.nodeID == 1 ? ClusterShow.Probe(info: Self.info(recovery: false), replication: ["node2": "catchup"])
                             : Self.probe(recovery: true, receivingFrom: "5401")
        }
        #expect(listing.issues.isEmpty)
        #expect(listing.entries[1].replicationState == "catchup")
        #expect(listing.entries[1].upstreamText == "node1")
        #expect(listing.notes == ["node \"node2\" (ID: 2) is attached to its upstream node \"node1\" in state \"catchup\""])
    }

    @Test("--json carries values: plain status, null upstream, is_primary; no display marks")
    func jsonValues() throws {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1)]
        let entries = ClusterShow.evaluate(nodes: nodes) { $0.nodeID == 1 ? Self.probe(recovery: false) : nil }.entries
        let text = JSON.render(entries)
        #expect(text.contains("\"status\" : \"running\""))
        #expect(text.contains("\"status\" : \"unreachable\""))
        #expect(text.contains("\"is_primary\" : true"))
        #expect(!text.contains("* running") && !text.contains("? unreachable") && !text.contains("status_mark"))
        #expect(!text.contains("\"upstream\" : \"\""))
        #expect(text.contains("\"upstream\" : null"))
    }
}
