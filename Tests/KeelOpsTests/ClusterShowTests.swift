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
        let (entries, issues) = ClusterShow.evaluate(nodes: nodes) { _ in recovery.map { Self.info(recovery: $0) } }
        #expect(entries.first?.status == expected)
        #expect(issues.isEmpty == (expected == "* running" || expected == "running"))
    }

    @Test("a standby attached to another node than its registered upstream is flagged")
    func upstreamMismatch() {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1), Self.node(3, .standby, upstream: 1)]
        let (entries, issues) = ClusterShow.evaluate(nodes: nodes) { node in
            switch node.nodeID {
            case 1: Self.info(recovery: false)
            case 2: Self.info(recovery: true, receivingFrom: "5401")
            default: Self.info(recovery: true, receivingFrom: "5402")
            }
        }
        #expect(entries[1].upstream == "node1")
        #expect(entries[2].upstream == "! node2")
        #expect(issues.count == 1)
        #expect(issues[0].contains("node3"))
    }

    @Test("the connection string column never shows a password")
    func masked() {
        let (entries, _) = ClusterShow.evaluate(nodes: [Self.node(1, .primary)]) { _ in Self.info(recovery: false) }
        #expect(!entries[0].connectionString.contains("hunter2"))
        #expect(entries[0].connectionString.contains("password=..."))
    }

    @Test("the timeline column shows the node's current timeline, unknown when unreachable")
    func timeline() {
        let nodes = [Self.node(1, .primary), Self.node(2, .standby, upstream: 1)]
        let (entries, _) = ClusterShow.evaluate(nodes: nodes) { $0.nodeID == 1 ? Self.info(recovery: false, timeline: 3) : nil }
        #expect(entries[0].timeline == 3)
        #expect(entries[1].timeline == nil)
        #expect(entries[1].upstream == "node1")
    }
}
