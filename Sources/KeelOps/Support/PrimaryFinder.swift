import KeelCore
import KeelPostgres

/// Finding the current primary among registered nodes: the reachable node that is not in recovery and is
/// not a witness, preferring the highest timeline when a former primary is also running.
public enum PrimaryFinder {
    /// The current primary and a connection to it; `deadlines` bound each connection and query (keeld's).
    public static func find(_ nodes: [NodeRecord], excluding: Set<Int> = [],
                            deadlines: ConnectionDeadlines? = nil) -> (NodeRecord, Connection)? {
        let candidates = nodes.filter { $0.type != .witness && !excluding.contains($0.nodeID) }
        // Every node at once: a silent one costs its deadline in parallel with the others, not after them.
        let found = concurrentMap(candidates, width: max(1, candidates.count), name: "keel-find-primary") { node in
            primary(node, deadlines: deadlines)
        }
        var best: Found?
        for case let candidate? in found where best == nil || candidate.timeline > best!.timeline { best = candidate }
        return best.map { ($0.node, $0.connection) }
    }

    /// A node found running as primary. A connection is used by one thread at a time: opened on a worker
    /// thread, handed over once every worker has returned.
    private struct Found: @unchecked Sendable {
        let node: NodeRecord
        let connection: Connection
        let timeline: Int
    }

    /// `node` with a connection and its timeline when it runs as primary; `nil` otherwise.
    private static func primary(_ node: NodeRecord, deadlines: ConnectionDeadlines?) -> Found? {
        guard let conn = try? Connection.open(node.conninfo, deadlines: deadlines),
              let row = try? conn.queryRow("""
                SELECT pg_catalog.pg_is_in_recovery() AS recovery,
                       CASE WHEN pg_catalog.pg_is_in_recovery() THEN 0
                            ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli
                """),
              row.bool("recovery") == false else { return nil }
        return Found(node: node, connection: conn, timeline: row.int("tli") ?? 0)
    }
}
