import KeelCore
import KeelPostgres

/// Finding the current primary among registered nodes: the reachable node that is not in recovery and is
/// not a witness, preferring the highest timeline when a former primary is also running.
public enum PrimaryFinder {
    /// The current primary and a connection to it; `deadlines` bound each connection and query (keeld's).
    public static func find(_ nodes: [NodeRecord], excluding: Set<Int> = [],
                            deadlines: ConnectionDeadlines? = nil) -> (NodeRecord, Connection)? {
        var best: (NodeRecord, Connection, Int)?
        for node in nodes where node.type != .witness && !excluding.contains(node.nodeID) {
            guard let conn = try? Connection.open(node.conninfo, deadlines: deadlines),
                  let row = try? conn.queryRow("""
                    SELECT pg_catalog.pg_is_in_recovery() AS recovery,
                           CASE WHEN pg_catalog.pg_is_in_recovery() THEN 0
                                ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli
                    """),
                  row.bool("recovery") == false else { continue }
            let tli = row.int("tli") ?? 0
            if best == nil || tli > best!.2 { best = (node, conn, tli) }
        }
        return best.map { ($0.0, $0.1) }
    }
}
