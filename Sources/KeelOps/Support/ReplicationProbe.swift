#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// Live facts about registered nodes and replication connections, shared by `standby promote` and
/// `standby follow` (and usable by the daemon). Every probe connects with the node's `conninfo`; a node that
/// does not answer is simply "not reachable", never an error.
public enum ReplicationProbe {
    /// A registered node that answered, with its open connection and whether it is in recovery.
    public struct Reachable {
        /// The node's record (from whichever metadata the caller read).
        public var record: NodeRecord
        /// An open connection to it (`record.conninfo`).
        public var connection: Connection
        /// `pg_is_in_recovery()`.
        public var isInRecovery: Bool
    }

    /// Connects to `record` and asks `pg_is_in_recovery()`; `nil` when it cannot be reached or the query fails.
    /// `deadlines` bound the connection and the query when given.
    public static func probe(_ record: NodeRecord, deadlines: ConnectionDeadlines? = nil) -> Reachable? {
        guard let connection = try? Connection.open(record.conninfo, deadlines: deadlines),
              let row = try? connection.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r"),
              let inRecovery = row.bool("r") else { return nil }
        return Reachable(record: record, connection: connection, isInRecovery: inRecovery)
    }

    /// The registered primaries and standbys of `nodes` (not `excluding`, not witnesses) that are reachable
    /// and not in recovery — running primaries — in `nodes`' order, active registered primaries first.
    /// Inactive records are probed too: a node marked failed that runs as a primary is still a primary.
    /// `deadlines` bound each probe when given.
    public static func runningPrimaries(among nodes: [NodeRecord], excluding nodeID: Int,
                                        deadlines: ConnectionDeadlines? = nil) -> [Reachable] {
        let candidates = nodes.filter { $0.nodeID != nodeID && ($0.type == .primary || $0.type == .standby) }
        let ordered = candidates.filter { $0.type == .primary && $0.active } + candidates.filter { !($0.type == .primary && $0.active) }
        return ordered.compactMap { probe($0, deadlines: deadlines) }.filter { !$0.isInRecovery }
    }

    /// What `IDENTIFY_SYSTEM` says over a replication connection.
    public struct SystemIdentity: Sendable, Equatable {
        /// The cluster's system identifier.
        public var systemIdentifier: String
        /// The server's current timeline (a standby: the timeline it replays).
        public var timeline: Int
        /// A primary: its current flush position; a standby: the last WAL position received or replayed.
        public var lsn: LSN
    }

    /// The replication connection string for `conninfo`: `replication=true`, `user` = `replicationUser` and
    /// `dbname=replication`, as pg_basebackup and the walreceiver connect: a password file is looked up for
    /// database `replication` on physical replication connections, so a `.pgpass` line
    /// `host:port:replication:repl:secret` serves these connections too.
    public static func replicationConninfo(_ conninfo: String, replicationUser: String) -> String {
        var result = Conninfo.setting("user", to: replicationUser, in: conninfo)
        result = Conninfo.setting("dbname", to: "replication", in: result)
        return Conninfo.setting("replication", to: "true", in: result)
    }

    /// Runs `IDENTIFY_SYSTEM` on a physical replication connection. Throws `PostgresError`.
    public static func identifySystem(_ replication: Connection) throws(PostgresError) -> SystemIdentity {
        guard let row = try replication.simpleQuery("IDENTIFY_SYSTEM").first,
              let sysid = row.string("systemid"), let timeline = row.int("timeline"), let lsn = row.lsn("xlogpos") else {
            throw PostgresError(kind: .query, message: "unexpected answer to IDENTIFY_SYSTEM", target: replication.target)
        }
        return SystemIdentity(systemIdentifier: sysid, timeline: timeline, lsn: lsn)
    }

    /// The history file of `timeline` read with `TIMELINE_HISTORY` on a physical replication connection;
    /// `nil` for timeline 1 (which has none) or when the command fails or the content does not parse.
    public static func timelineHistory(_ replication: Connection, timeline: Int) -> TimelineHistory? {
        guard timeline > 1, let row = try? replication.simpleQuery("TIMELINE_HISTORY \(timeline)").first,
              let content = row.string("content") else { return nil }
        return TimelineHistory(parsing: content)
    }
}
