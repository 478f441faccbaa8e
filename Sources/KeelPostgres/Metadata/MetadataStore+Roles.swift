import KeelCore

/// Role changes written by `standby promote` and `standby follow` (and by the daemon's failover, which runs
/// the same operations). Every method throws `PostgresError`.
extension MetadataStore {
    /// Records that `nodeID` is now the primary, as repmgr 5.3's `update_node_record_set_primary` does, in
    /// one transaction: every other active primary's row gets `active = false`, then `nodeID`'s row gets
    /// `type = 'primary'`, `upstream_node_id = NULL`, `active = true`. Returns the IDs of the primaries that
    /// were marked inactive. Meant for the new primary's own metadata (right after its promotion).
    @discardableResult
    public func markPromoted(nodeID: Int) throws -> [Int] {
        try connection.transaction {
            let demoted = try connection.query("""
                UPDATE repmgr.nodes SET active = FALSE
                 WHERE type = 'primary' AND active AND node_id <> $1
                RETURNING node_id
                """, [nodeID]).compactMap { $0.int("node_id") }
            try connection.query("""
                UPDATE repmgr.nodes SET type = 'primary', upstream_node_id = NULL, active = TRUE
                 WHERE node_id = $1
                """, [nodeID])
            return demoted
        }
    }

    /// Records that standby `nodeID` now replicates from `upstreamNodeID` (`type = 'standby'`,
    /// `active = true`), as repmgr 5.3's `update_node_record_status` after a follow. Returns whether the
    /// row exists.
    @discardableResult
    public func markFollowing(nodeID: Int, upstreamNodeID: Int) throws(PostgresError) -> Bool {
        !(try connection.query("""
            UPDATE repmgr.nodes SET type = 'standby', upstream_node_id = $2, active = TRUE
             WHERE node_id = $1
            RETURNING node_id
            """, [nodeID, upstreamNodeID]).isEmpty)
    }

    /// `repmgr.voting_term.term`, or `nil` when the table has no row.
    public func votingTerm() throws(PostgresError) -> Int? {
        try connection.queryRow("SELECT term FROM repmgr.voting_term").flatMap { $0.int("term") }
    }

    /// Increments `repmgr.voting_term.term` by one (done by every promotion, as repmgr's
    /// `increment_current_term`) and returns the new term (`nil` when the table has no row).
    @discardableResult
    public func incrementVotingTerm() throws(PostgresError) -> Int? {
        try connection.queryRow("UPDATE repmgr.voting_term SET term = term + 1 RETURNING term").flatMap { $0.int("term") }
    }
}
