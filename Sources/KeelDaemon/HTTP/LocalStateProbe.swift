import KeelCore
import KeelPostgres

/// The health routes' request-time question to the local server: one query, on a kept-open connection
/// of `pool` (a new one when none is idle), with `connect_timeout`, `statement_timeout` and a client-side
/// deadline, so that no request waits longer than about a second. The answer is never cached: every
/// request runs the query.
enum LocalStateProbe {
    /// The client-side deadline (seconds).
    static let deadline = 1.0

    /// Asks the server at `conninfo` now.
    static func read(conninfo: String, pool: HealthConnections) async -> LocalServerState {
        let bounded = boundedConninfo(conninfo)
        return await Deadline.run(seconds: deadline, fallback: .unreachable("no answer within \(deadline) s")) {
            query(bounded, pool: pool)
        }
    }

    /// The state, on an idle connection of `pool` when there is one, else (or when that one fails: the
    /// server may have restarted since) on a new connection; a connection that answered goes back to `pool`.
    private static func query(_ conninfo: String, pool: HealthConnections) -> LocalServerState {
        if let reused = pool.take(conninfo) {
            if let state = try? state(on: reused) {
                pool.giveBack(reused, conninfo: conninfo)
                return state
            }
        }
        do {
            let connection = try Connection(conninfo: conninfo)
            let state = try state(on: connection)
            pool.giveBack(connection, conninfo: conninfo)
            return state
        } catch {
            return .unreachable(error.message)
        }
    }

    /// `conninfo` with a 1 s `connect_timeout` and an 800 ms `statement_timeout`.
    static func boundedConninfo(_ conninfo: String) -> String {
        let options = ((Conninfo.value("options", in: conninfo) ?? "") + " -c statement_timeout=800").trimmingPrefixSpaces
        var bounded = Conninfo.setting("connect_timeout", to: "1", in: conninfo)
        bounded = Conninfo.setting("options", to: options, in: bounded)
        return Conninfo.setting("application_name", to: "keeld_http", in: bounded)
    }

    static let sql = """
        SELECT pg_catalog.pg_is_in_recovery() AS in_recovery,
               pg_catalog.current_setting('transaction_read_only') = 'on' AS read_only,
               COALESCE(r.status = 'streaming', false) AS streaming,
               CASE WHEN r.latest_end_lsn IS NOT NULL AND pg_catalog.pg_last_wal_replay_lsn() IS NOT NULL
                    THEN GREATEST(pg_catalog.pg_wal_lsn_diff(r.latest_end_lsn, pg_catalog.pg_last_wal_replay_lsn()), 0)::bigint
               END AS lag_bytes,
               CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN NULL
                    WHEN pg_catalog.pg_last_wal_receive_lsn() IS NULL
                      OR pg_catalog.pg_last_wal_receive_lsn() <= pg_catalog.pg_last_wal_replay_lsn() THEN 0
                    ELSE COALESCE(EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp())::float8, 0)
               END AS lag_seconds,
               CASE WHEN pg_catalog.pg_is_in_recovery()
                    THEN COALESCE(r.received_tli, (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()))
                    ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int
               END::int AS timeline
          FROM (SELECT 1) AS one LEFT JOIN pg_catalog.pg_stat_wal_receiver r ON true
        """

    private static func state(on connection: Connection) throws(PostgresError) -> LocalServerState {
        guard let row = try connection.queryRow(sql) else { throw PostgresError(kind: .query, message: "no row returned", target: connection.target) }
        return LocalServerState(inRecovery: row.bool("in_recovery") ?? false, readOnly: row.bool("read_only") ?? false,
                                streaming: row.bool("streaming") ?? false, lagBytes: row.int("lag_bytes").map(Int64.init),
                                lagSeconds: row.double("lag_seconds"),
                                timeline: row.int("timeline"))
    }
}

/// Up to `capacity` open connections to the local server kept for the health routes (a request takes
/// one for itself, and gives it back after a good answer); all dropped when the conninfo changes.
final class HealthConnections: @unchecked Sendable {
    static let capacity = 4
    private let lock = Lock()
    private var idle: [Connection] = []
    private var conninfo = ""

    /// An idle connection to `conninfo`, removed from the pool.
    func take(_ conninfo: String) -> Connection? {
        lock.withLock {
            if conninfo != self.conninfo {
                idle.removeAll()
                self.conninfo = conninfo
            }
            return idle.popLast()
        }
    }

    /// Keeps `connection` for the next request (closed instead when the pool is full or the conninfo changed).
    func giveBack(_ connection: Connection, conninfo: String) {
        lock.withLock {
            if conninfo == self.conninfo, idle.count < Self.capacity, connection.isOK { idle.append(connection) }
        }
    }
}

private extension String {
    var trimmingPrefixSpaces: String { String(drop { $0 == " " }) }
}
