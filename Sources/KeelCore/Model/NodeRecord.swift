/// One row of `repmgr.nodes`, column for column as repmgr 5.3 lays it out (`repmgr--5.3.sql`).
public struct NodeRecord: Sendable, Equatable, Codable {
    /// `node_id`, unique and ≥ 1.
    public var nodeID: Int
    /// `upstream_node_id`: the node this one replicates from; `nil` for a primary.
    public var upstreamNodeID: Int?
    /// `active`: false once a node has failed or been shut down by an operation.
    public var active: Bool
    /// `node_name`, also the `application_name` a standby streams with.
    public var nodeName: String
    public var type: NodeType
    /// `location`, used by the election: failover happens only where the primary's location is visible.
    public var location: String
    /// `priority`: election tie-break after LSN; 0 never promotes.
    public var priority: Int
    /// `conninfo` as configured (may hold a password: print `Conninfo.masked` only).
    public var conninfo: String
    /// `repluser`: the replication user.
    public var replicationUser: String
    /// `slot_name`: `repmgr_slot_<node_id>` when `use_replication_slots` is on.
    public var slotName: String?
    /// `config_file`: absolute path of the node's configuration, used for remote actions.
    public var configFile: String

    public init(nodeID: Int, upstreamNodeID: Int? = nil, active: Bool = true, nodeName: String, type: NodeType,
                location: String = "default", priority: Int = 100, conninfo: String, replicationUser: String,
                slotName: String? = nil, configFile: String) {
        self.nodeID = nodeID
        self.upstreamNodeID = upstreamNodeID
        self.active = active
        self.nodeName = nodeName
        self.type = type
        self.location = location
        self.priority = priority
        self.conninfo = conninfo
        self.replicationUser = replicationUser
        self.slotName = slotName
        self.configFile = configFile
    }

    /// `node "name" (ID: n)`, how messages and events name a node (repmgr's wording).
    public var nodeLabel: String { "node \"\(nodeName)\" (ID: \(nodeID))" }

    /// repmgr's replication slot name for a node: `repmgr_slot_<node_id>` (`dbutils.c`).
    public static func slotName(for nodeID: Int) -> String { "repmgr_slot_\(nodeID)" }
}
