import Testing
import KeelCore
@testable import KeelOps
@testable import KeelPostgres

/// `node check`'s decisions from what was read (no database).
@Suite("node check evaluations")
struct NodeCheckTests {
    static let config = testConfig(id: 2, "monitor_interval_secs=2")

    static func observation(recovery: Bool = true, receiver: String? = "streaming", upstream: NodeCheck.UpstreamState = .unknown,
                            local: NodeCheck.LocalFacts = .init()) -> NodeCheck.Observation {
        let info = ClusterShowTests.info(recovery: recovery, receivingFrom: "5401")
        var o = NodeCheck.Observation(record: ClusterShowTests.node(2, .standby, upstream: 1), info: info, archiveReadyFiles: 0,
                                      downstream: [], connectedNames: [], slots: [:],
                                      nodes: [ClusterShowTests.node(1, .primary), ClusterShowTests.node(2, .standby, upstream: 1)])
        o.info.walReceiverStatus = receiver
        o.upstreamState = upstream
        o.local = local
        return o
    }

    @Test("--upstream: streaming on the upstream is OK; catchup is WARNING naming the state; no WAL receiver is CRITICAL",
          arguments: [
              (NodeCheck.UpstreamState.listed("streaming"), "streaming" as String?, "OK"),
              (.unknown, "streaming", "OK"),
              (.listed("catchup"), "streaming", "WARNING"),
              (.notListed, "streaming", "WARNING"),
              (.listed("catchup"), nil, "CRITICAL"),
          ])
    func upstream(state: NodeCheck.UpstreamState, receiver: String?, expected: String) {
        let r = NodeCheck.evaluate(.upstream, Self.observation(receiver: receiver, upstream: state), config: Self.config)
        #expect(r.status == expected, "\(r.message)")
        if case .listed("catchup") = state, receiver != nil {
            #expect(r.message == "node is attached to its upstream node \"node1\" in state \"catchup\"")
        }
    }

    static func daemon(pid: Int? = 4242, age: Double? = 1, paused: Bool = false) -> DaemonRecord {
        DaemonRecord(nodeID: 2, pid: pid, host: nil, secondsSinceHeartbeat: age, upstreamLastSeenSeconds: 0, state: nil, paused: paused)
    }

    @Test("--repmgrd: running OK, paused WARNING, stale heartbeat or no row CRITICAL",
          arguments: [(daemon() as DaemonRecord?, "OK"), (daemon(paused: true), "WARNING"), (daemon(age: 11), "CRITICAL"),
                      (daemon(pid: nil), "CRITICAL"), (nil, "CRITICAL")])
    func keeld(record: DaemonRecord?, expected: String) {
        let r = NodeCheck.evaluate(.repmgrd, Self.observation(local: .init(daemon: record)), config: Self.config)
        #expect(r.status == expected, "\(r.message)")
    }

    @Test("--data-directory-config and --replication-config-owner compare what the server and the files say")
    func local() {
        func status(_ kind: NodeCheck.Kind, _ facts: NodeCheck.LocalFacts) -> String {
            NodeCheck.evaluate(kind, Self.observation(local: facts), config: Self.config).status
        }
        #expect(status(.dataDirectoryConfig, .init(serverDataDirectory: "/srv/pg/node2/")) == "OK")
        #expect(status(.dataDirectoryConfig, .init(serverDataDirectory: "/srv/pg/other")) == "CRITICAL")
        #expect(status(.dataDirectoryConfig, .init()) == "UNKNOWN")
        #expect(status(.replicationConfigOwner, .init(dataDirectoryOwner: 104, autoConfOwner: 104)) == "OK")
        #expect(status(.replicationConfigOwner, .init(dataDirectoryOwner: 104, autoConfOwner: 0)) == "CRITICAL")
        #expect(NodeCheck.Kind.listing.contains(.dataDirectoryConfig) && !NodeCheck.Kind.listing.contains(.repmgrd))
    }
}
