import KeelCore

/// Reads and writes the `repmgr` schema's tables through one connection. Writes are meant for the
/// primary (or a witness's own copy); every method throws `PostgresError`.
public struct MetadataStore {
    public let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    static let nodeColumns = """
        node_id, upstream_node_id, active, node_name, type, location, priority, conninfo, repluser, slot_name, config_file
        """

    // MARK: nodes

    /// Every row of `repmgr.nodes`, by `node_id`.
    public func nodes() throws(PostgresError) -> [NodeRecord] {
        try connection.query("SELECT \(Self.nodeColumns) FROM repmgr.nodes ORDER BY node_id").compactMap(Self.node(from:))
    }

    /// The row of `nodeID`, or `nil`.
    public func node(id nodeID: Int) throws(PostgresError) -> NodeRecord? {
        try connection.queryRow("SELECT \(Self.nodeColumns) FROM repmgr.nodes WHERE node_id = $1", [nodeID]).flatMap(Self.node(from:))
    }

    /// The row named `name`, or `nil`.
    public func node(named name: String) throws(PostgresError) -> NodeRecord? {
        try connection.queryRow("SELECT \(Self.nodeColumns) FROM repmgr.nodes WHERE node_name = $1", [name]).flatMap(Self.node(from:))
    }

    /// The active primary's row, or `nil`.
    public func primary() throws(PostgresError) -> NodeRecord? {
        try connection.queryRow("SELECT \(Self.nodeColumns) FROM repmgr.nodes WHERE type = 'primary' AND active ORDER BY node_id LIMIT 1")
            .flatMap(Self.node(from:))
    }

    /// Inserts `node`, or replaces the row with the same `node_id` (the `--force` path of register).
    public func upsert(_ node: NodeRecord) throws(PostgresError) {
        try connection.query("""
            INSERT INTO repmgr.nodes (\(Self.nodeColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (node_id) DO UPDATE SET
              upstream_node_id = EXCLUDED.upstream_node_id, active = EXCLUDED.active, node_name = EXCLUDED.node_name,
              type = EXCLUDED.type, location = EXCLUDED.location, priority = EXCLUDED.priority,
              conninfo = EXCLUDED.conninfo, repluser = EXCLUDED.repluser, slot_name = EXCLUDED.slot_name,
              config_file = EXCLUDED.config_file
            """, [node.nodeID, node.upstreamNodeID, node.active, node.nodeName, node.type, node.location, node.priority,
                  node.conninfo, node.replicationUser, node.slotName, node.configFile])
    }

    /// Sets the `upstream_node_id` of `nodeID` (a witness follows the primary of the moment).
    public func setUpstream(nodeID: Int, upstreamNodeID: Int) throws(PostgresError) {
        try connection.query("UPDATE repmgr.nodes SET upstream_node_id = $2 WHERE node_id = $1 AND upstream_node_id IS DISTINCT FROM $2",
                             [nodeID, upstreamNodeID])
    }

    /// Deletes the row of `nodeID`; returns whether one existed.
    @discardableResult
    public func deleteNode(id nodeID: Int) throws(PostgresError) -> Bool {
        !(try connection.query("DELETE FROM repmgr.nodes WHERE node_id = $1 RETURNING node_id", [nodeID]).isEmpty)
    }

    /// Replaces the whole `repmgr.nodes` table with `nodes` (a witness's copy of the primary's), in one transaction.
    public func replaceAllNodes(_ nodes: [NodeRecord]) throws {
        try connection.transaction {
            try connection.query("SET CONSTRAINTS ALL DEFERRED")
            try connection.query("DELETE FROM repmgr.nodes")
            for node in nodes { try upsert(node) }
        }
    }

    static func node(from row: Row) -> NodeRecord? {
        guard let id = row.int("node_id"), let name = row.string("node_name"),
              let type = row.string("type").flatMap(NodeType.init(rawValue:)) else { return nil }
        return NodeRecord(nodeID: id, upstreamNodeID: row.int("upstream_node_id"), active: row.bool("active") ?? true,
                          nodeName: name, type: type, location: row.string("location") ?? "default",
                          priority: row.int("priority") ?? 100, conninfo: row.string("conninfo") ?? "",
                          replicationUser: row.string("repluser") ?? "", slotName: row.string("slot_name"),
                          configFile: row.string("config_file") ?? "")
    }

    // MARK: events

    /// Writes one `repmgr.events` row and returns it with the server's timestamp in repmgr's `%t` form.
    /// `details` must not contain a password (mask conninfo strings first).
    @discardableResult
    public func recordEvent(nodeID: Int, event: EventName, successful: Bool, details: String) throws(PostgresError) -> EventRecord {
        try recordEvent(nodeID: nodeID, named: event.rawValue, successful: successful, details: details)
    }

    /// `recordEvent` for any event name, e.g. one a Lua hook records with `keel.event(name, ok, details)`.
    @discardableResult
    public func recordEvent(nodeID: Int, named event: String, successful: Bool, details: String) throws(PostgresError) -> EventRecord {
        let row = try connection.queryRow("""
            INSERT INTO repmgr.events (node_id, event, successful, details) VALUES ($1, $2, $3, $4)
            RETURNING pg_catalog.to_char(event_timestamp, 'YYYY-MM-DD HH24:MI:SSOF') AS ts
            """, [nodeID, event, successful, details])
        return EventRecord(nodeID: nodeID, event: event, successful: successful,
                           timestamp: row?.string("ts") ?? "", details: details)
    }

    /// Filter for `events(_:)`, the options of `cluster event`.
    public struct EventFilter: Sendable {
        public var limit: Int?
        public var event: String?
        public var nodeID: Int?
        public var nodeName: String?
        public init(limit: Int? = 20, event: String? = nil, nodeID: Int? = nil, nodeName: String? = nil) {
            self.limit = limit; self.event = event; self.nodeID = nodeID; self.nodeName = nodeName
        }
    }

    /// Events newest first, with the node's name (from `repmgr.nodes`, when the node is still registered).
    public func events(_ filter: EventFilter) throws(PostgresError) -> [EventRecord] {
        let rows = try connection.query("""
            SELECT e.node_id, n.node_name, e.event, e.successful, e.details,
                   pg_catalog.to_char(e.event_timestamp, 'YYYY-MM-DD HH24:MI:SS') AS ts
              FROM repmgr.events e LEFT JOIN repmgr.nodes n ON n.node_id = e.node_id
             WHERE ($1::int IS NULL OR e.node_id = $1::int)
               AND ($2::text IS NULL OR e.event = $2::text)
               AND ($3::text IS NULL OR n.node_name = $3::text)
             ORDER BY e.event_timestamp DESC
             LIMIT $4::int
            """, [filter.nodeID, filter.event, filter.nodeName, filter.limit])
        return rows.map {
            EventRecord(nodeID: $0.int("node_id") ?? 0, event: $0.string("event") ?? "", successful: $0.bool("successful") ?? false,
                        timestamp: $0.string("ts") ?? "", details: $0.string("details") ?? "", nodeName: $0.string("node_name"))
        }
    }

    // MARK: monitoring history

    /// Deletes `repmgr.monitoring_history` rows older than `keepDays` days (all when 0), optionally of one
    /// standby only; returns the number deleted.
    public func cleanupMonitoringHistory(keepDays: Int, nodeID: Int?) throws(PostgresError) -> Int {
        try connection.query("""
            DELETE FROM repmgr.monitoring_history
             WHERE last_monitor_time < pg_catalog.now() - ($1::int * INTERVAL '1 day')
               AND ($2::int IS NULL OR standby_node_id = $2::int)
            RETURNING 1
            """, [keepDays, nodeID]).count
    }
}
