/// One registered node as the electing standby sees it at election time: its metadata record
/// (`repmgr.nodes`) plus what the daemon read from it over SQL, if it could connect.
///
/// This is repmgrd's `t_node_info` + `ReplInfo` for a sibling in `do_election()`
/// (`R:repmgrd-physical.c`), reduced to the facts the decision needs.
public struct PeerView: Sendable, Equatable {
    /// `node_id`.
    public var nodeID: Int
    /// `node_name`.
    public var name: String
    /// `type` in the metadata: primary, standby or witness.
    public var type: NodeType
    /// `upstream_node_id` in the metadata; `nil` for a primary.
    public var upstreamNodeID: Int?
    /// `location` in the metadata.
    public var location: String
    /// `priority` in the metadata (0 = never promote).
    public var priority: Int
    /// `active` in the metadata; an inactive node takes no part in the election.
    public var active: Bool
    /// True when the daemon could connect to the node for this election.
    public var reachable: Bool
    /// `pg_is_in_recovery()`; `nil` when the node is unreachable or did not answer.
    public var isInRecovery: Bool?
    /// A standby's `pg_last_wal_receive_lsn()`; `nil` when unknown (unreachable, not a standby, or
    /// the query failed).
    public var lastReceivedLSN: LSN?
    /// For a standby: its WAL receiver still streams from the lost primary (it saw the primary
    /// within 2 × `monitor_interval_secs`). For a witness: it can still connect to the lost primary.
    public var seesPrimary: Bool
    /// For a standby already following some other node that is not in recovery: that node's ID.
    public var upstreamIsNewPrimary: Int?
    /// The node's timeline, when it answered; a node out of recovery on a timeline older than another
    /// node's is a former primary, never followed.
    public var timeline: Int?
    /// PostgreSQL 17+: the logical slots synced from the primary (`synced`, not invalidated) with their
    /// `confirmed_flush_lsn`; `nil` when unknown (older server, unreachable, or not asked).
    public var syncedLogicalSlots: [String: LSN]?
    /// The synchronous-mode record as this node's (replicated) metadata holds it; `nil` when none.
    public var syncRecord: SyncRecord?
    /// True when the node's replay has caught up with the WAL it received (its metadata, the record
    /// included, is as new as its LSN says). Unreachable nodes: irrelevant.
    public var replayCaughtUp: Bool

    /// A node view; unreachable, unknown and "sees nothing" unless told otherwise.
    public init(nodeID: Int, name: String, type: NodeType, upstreamNodeID: Int? = nil, location: String = "default",
                priority: Int = 100, active: Bool = true, reachable: Bool = false, isInRecovery: Bool? = nil,
                lastReceivedLSN: LSN? = nil, seesPrimary: Bool = false, upstreamIsNewPrimary: Int? = nil,
                timeline: Int? = nil, syncedLogicalSlots: [String: LSN]? = nil,
                syncRecord: SyncRecord? = nil, replayCaughtUp: Bool = true) {
        self.nodeID = nodeID
        self.name = name
        self.type = type
        self.upstreamNodeID = upstreamNodeID
        self.location = location
        self.priority = priority
        self.active = active
        self.reachable = reachable
        self.isInRecovery = isInRecovery
        self.lastReceivedLSN = lastReceivedLSN
        self.seesPrimary = seesPrimary
        self.upstreamIsNewPrimary = upstreamIsNewPrimary
        self.timeline = timeline
        self.syncedLogicalSlots = syncedLogicalSlots
        self.syncRecord = syncRecord
        self.replayCaughtUp = replayCaughtUp
    }

    /// `node "name" (ID: n)`, the way repmgr names a node in its log lines.
    public var label: String { "node \"\(name)\" (ID: \(nodeID))" }
}
