import KeelCore

/// One row of `repmgr.keel_daemon`: what a node's keeld last reported, and its pause flag.
public struct DaemonRecord: Sendable, Equatable, Codable {
    public var nodeID: Int
    public var pid: Int?
    public var host: String?
    /// Seconds since the daemon's last heartbeat (server clock), `nil` when it never reported.
    public var secondsSinceHeartbeat: Double?
    /// Seconds since the daemon last saw its upstream, `nil` when unknown.
    public var upstreamLastSeenSeconds: Double?
    public var state: String?
    public var paused: Bool
}

extension MetadataStore {
    /// Every `keel_daemon` row (empty when the table does not exist yet).
    public func daemonRecords() throws(PostgresError) -> [DaemonRecord] {
        guard try connection.queryRow("SELECT pg_catalog.to_regclass('repmgr.keel_daemon') IS NOT NULL AS present")?.bool("present") == true else {
            return []
        }
        return try connection.query("""
            SELECT node_id, pid, host, state, paused,
                   EXTRACT(epoch FROM pg_catalog.now() - last_heartbeat)::float8 AS heartbeat_age,
                   EXTRACT(epoch FROM pg_catalog.now() - upstream_last_seen)::float8 AS upstream_age
              FROM repmgr.keel_daemon ORDER BY node_id
            """).compactMap { row in
            guard let id = row.int("node_id") else { return nil }
            return DaemonRecord(nodeID: id, pid: row.int("pid"), host: row.string("host"),
                                secondsSinceHeartbeat: row.double("heartbeat_age"), upstreamLastSeenSeconds: row.double("upstream_age"),
                                state: row.string("state"), paused: row.bool("paused") ?? false)
        }
    }

    /// This node's pause flag as the (possibly replicated) metadata says; false when there is no row.
    public func isPaused(nodeID: Int) throws(PostgresError) -> Bool {
        try daemonRecords().first { $0.nodeID == nodeID }?.paused ?? false
    }

    /// Writes a daemon's heartbeat (`pid`, `host`, its state sentence, seconds since it last saw its upstream).
    /// Must run on the primary.
    public func recordHeartbeat(nodeID: Int, pid: Int, host: String, state: String, upstreamLastSeenSecondsAgo: Double?,
                                starting: Bool) throws(PostgresError) {
        try connection.query("""
            INSERT INTO repmgr.keel_daemon (node_id, pid, host, started_at, last_heartbeat, upstream_last_seen, state)
            VALUES ($1, $2, $3, pg_catalog.now(), pg_catalog.now(),
                    pg_catalog.now() - ($4::float8 * INTERVAL '1 second'), $5)
            ON CONFLICT (node_id) DO UPDATE SET
              pid = EXCLUDED.pid, host = EXCLUDED.host, last_heartbeat = EXCLUDED.last_heartbeat,
              upstream_last_seen = EXCLUDED.upstream_last_seen, state = EXCLUDED.state,
              started_at = CASE WHEN $6 THEN EXCLUDED.started_at ELSE repmgr.keel_daemon.started_at END
            """, [nodeID, pid, host, upstreamLastSeenSecondsAgo, state, starting])
    }

    /// Marks the daemon of `nodeID` stopped (pid cleared).
    public func recordDaemonStopped(nodeID: Int) throws(PostgresError) {
        try connection.query("UPDATE repmgr.keel_daemon SET pid = NULL, state = 'stopped' WHERE node_id = $1", [nodeID])
    }

    /// Sets the pause flag of every registered node (`keel service pause|unpause`); returns the node ids changed.
    @discardableResult
    public func setPaused(_ paused: Bool, nodeIDs: [Int]) throws(PostgresError) -> [Int] {
        var changed: [Int] = []
        for id in nodeIDs {
            let row = try connection.queryRow("""
                INSERT INTO repmgr.keel_daemon (node_id, paused) VALUES ($1, $2)
                ON CONFLICT (node_id) DO UPDATE SET paused = EXCLUDED.paused
                RETURNING node_id
                """, [id, paused])
            if let id = row?.int("node_id") { changed.append(id) }
        }
        return changed
    }

    /// Appends one `monitoring_history` row for `standbyID` (bytes of lag; LSNs as read on each side).
    public func recordMonitoringHistory(primaryID: Int, standbyID: Int, primaryLSN: LSN, standbyLSN: LSN?, replayLSN: LSN?,
                                        lastApplyTime: String?) throws(PostgresError) {
        let replicationLag = standbyLSN.map { primaryLSN.bytes(after: $0) } ?? 0
        let applyLag = (standbyLSN.flatMap { s in replayLSN.map { s.bytes(after: $0) } }) ?? 0
        try connection.query("""
            INSERT INTO repmgr.monitoring_history (primary_node_id, standby_node_id, last_monitor_time, last_apply_time,
              last_wal_primary_location, last_wal_standby_location, replication_lag, apply_lag)
            VALUES ($1, $2, pg_catalog.now(), $3::timestamptz, $4::pg_lsn, $5::pg_lsn, $6, $7)
            """, [primaryID, standbyID, lastApplyTime, primaryLSN, standbyLSN, Int64(replicationLag), Int64(applyLag)])
    }
}
