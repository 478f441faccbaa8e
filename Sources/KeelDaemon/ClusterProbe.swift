#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// keeld's observer: reads what each node's server says about itself, over SQL, with no daemon-to-daemon
/// protocol. repmgrd asks sibling repmgrds through its extension's shared memory; Keel asks the
/// siblings' PostgreSQL directly: recovery state, last received LSN, and where its WAL receiver streams from.
public struct NodeProbe: Sendable, Equatable {
    public var node: NodeRecord
    public var reachable: Bool
    public var isInRecovery: Bool?
    public var lastReceivedLSN: LSN?
    public var timeline: Int?
    /// The node its WAL receiver streams from (matched by host and port), when streaming.
    public var streamingFrom: Int?
    /// PostgreSQL 17+ standby: the logical slots synced from the primary (`LogicalSlots.failoverSlots`).
    public var syncedLogicalSlots: [String: LSN]?
    /// The `synchronous_mode` record in the node's metadata, `nil` when none.
    public var syncRecord: SyncRecord?
    /// The node's replay has caught up with the WAL it received (or waits for more).
    public var replayCaughtUp = false

    /// What an election reads beyond the core query, each only when the feature using it is on.
    public struct Extras: Sendable {
        /// The `synchronous_mode` record (`synchronous_mode` is not `off`).
        public var syncRecord = false
        /// A PostgreSQL 17+ standby's synced logical slots (`logical_slot_failover`).
        public var logicalSlots = false

        /// The extras `config`'s election uses.
        public init(config: KeelConfig) {
            syncRecord = config.synchronousMode != .off
            logicalSlots = config.logicalSlotFailover
        }

        /// None.
        public init() {}
    }

    /// Probes `node` (connect with the node's conninfo, one query, plus one per `extras`), each call bounded
    /// by `deadlines` when given. Unreachable gives `reachable == false`.
    public static func probe(_ node: NodeRecord, among nodes: [NodeRecord], deadlines: ConnectionDeadlines? = nil,
                             extras: Extras = Extras()) -> NodeProbe {
        guard let conn = try? Connection.open(node.conninfo, deadlines: deadlines),
              let row = try? conn.queryRow("""
                SELECT pg_catalog.pg_is_in_recovery() AS recovery,
                       COALESCE(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn()) AS received,
                       pg_catalog.current_setting('server_version_num')::int AS version,
                       (SELECT status FROM pg_catalog.pg_stat_wal_receiver) AS receiver,
                       (SELECT sender_host FROM pg_catalog.pg_stat_wal_receiver) AS sender_host,
                       (SELECT sender_port FROM pg_catalog.pg_stat_wal_receiver) AS sender_port,
                       CASE WHEN pg_catalog.pg_is_in_recovery()
                            THEN GREATEST((SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()),
                                          (SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver))
                            ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int
                       END AS timeline,
                       COALESCE(pg_catalog.pg_last_wal_replay_lsn() >= pg_catalog.pg_last_wal_receive_lsn(), true)
                         OR EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity WHERE backend_type = 'startup'
                                       AND wait_event IN ('RecoveryWalStream', 'RecoveryRetrieveRetryInterval',
                                                          'WalReceiverWaitStart')) AS caught_up
                """) else {
            return NodeProbe(node: node, reachable: false)
        }
        var from: Int?
        if row.string("receiver") == "streaming", let host = row.string("sender_host"), let port = row.int("sender_port") {
            from = nodes.first { Conninfo.names($0.conninfo, host: host, port: port) }?.nodeID
        }
        var probe = NodeProbe(node: node, reachable: true, isInRecovery: row.bool("recovery"), lastReceivedLSN: row.lsn("received"),
                              timeline: row.int("timeline"), streamingFrom: from)
        if extras.logicalSlots, (row.int("version") ?? 0) >= LogicalSlotFailover.minimumServerVersion, row.bool("recovery") == true {
            probe.syncedLogicalSlots = LogicalSlots.failoverSlots(conn)
        }
        // Replay caught up with the WAL received (or the startup process waits for more): the replicated
        // metadata, the synchronous_mode record included, is as new as the LSN.
        probe.replayCaughtUp = row.bool("caught_up") ?? false
        if extras.syncRecord { probe.syncRecord = (try? MetadataStore(connection: conn).syncRecord()) ?? nil }
        return probe
    }

    init(node: NodeRecord, reachable: Bool, isInRecovery: Bool? = nil, lastReceivedLSN: LSN? = nil, timeline: Int? = nil,
         streamingFrom: Int? = nil) {
        self.node = node
        self.reachable = reachable
        self.isInRecovery = isInRecovery
        self.lastReceivedLSN = lastReceivedLSN
        self.timeline = timeline
        self.streamingFrom = streamingFrom
    }

    /// This probe as the election sees it, relative to the lost primary.
    public func peerView(lostPrimaryID: Int, probes: [NodeProbe]) -> PeerView {
        var newPrimary: Int?
        if let from = streamingFrom, from != lostPrimaryID,
           probes.first(where: { $0.node.nodeID == from })?.isInRecovery == false {
            newPrimary = from
        }
        return PeerView(nodeID: node.nodeID, name: node.nodeName, type: node.type, upstreamNodeID: node.upstreamNodeID,
                        location: node.location, priority: node.priority, active: node.active, reachable: reachable,
                        isInRecovery: isInRecovery, lastReceivedLSN: lastReceivedLSN,
                        seesPrimary: streamingFrom == lostPrimaryID, upstreamIsNewPrimary: newPrimary, timeline: timeline,
                        syncedLogicalSlots: syncedLogicalSlots,
                        syncRecord: syncRecord, replayCaughtUp: replayCaughtUp)
    }
}

