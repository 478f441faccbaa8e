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

    /// The state, on an idle connection of `pool` when there is one (else on a new one while the pool has
    /// room, else after waiting for one); a kept connection that fails (the server may have restarted) is
    /// replaced by a new one at once. A connection that answered goes back to `pool`.
    private static func query(_ conninfo: String, pool: HealthConnections) -> LocalServerState {
        guard let lease = pool.lease(conninfo, waiting: deadline / 2) else {
            return .unreachable("all \(HealthConnections.capacity) connections to the local server busy")
        }
        if let reused = lease.connection, let state = try? state(on: reused) {
            pool.release(lease, keeping: reused)
            return state
        }
        do {
            let connection = try Connection(conninfo: conninfo)
            do {
                let state = try state(on: connection)
                pool.release(lease, keeping: connection)
                return state
            } catch {
                pool.release(lease, keeping: nil)
                return .unreachable(error.message)
            }
        } catch {
            pool.release(lease, keeping: nil)
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

/// At most `capacity` connections to the local server for the health routes and `/metrics`: a request
/// leases an idle one, or opens one while fewer are open, or waits for one to come back; a connection that
/// answered is kept for the next request. All are dropped when the conninfo changes (a reload).
final class HealthConnections: @unchecked Sendable {
    static let capacity = 4

    /// A request's right to one connection: `connection` to reuse, or nil to open a new one. Used by one
    /// thread at a time (handed over, never shared).
    struct Lease: @unchecked Sendable {
        var connection: Connection?
        let generation: Int
    }

    private let condition = Condition()
    private var idle: [Connection] = []
    /// Connections idle or leased (or being opened) in this generation.
    private var open = 0
    private var conninfo = ""
    private var generation = 0

    /// A lease for `conninfo`, waiting up to `seconds` when every connection is in use; nil when none
    /// came free in time.
    func lease(_ conninfo: String, waiting seconds: Double) -> Lease? {
        condition.lock()
        defer { condition.unlock() }
        if conninfo != self.conninfo {
            idle.removeAll()
            open = 0
            generation += 1
            self.conninfo = conninfo
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while true {
            if let connection = idle.popLast() { return Lease(connection: connection, generation: generation) }
            if open < Self.capacity {
                open += 1
                return Lease(connection: nil, generation: generation)
            }
            let left = deadline - clock.now
            guard left > .zero else { return nil }
            condition.wait(seconds: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
        }
    }

    /// Ends `lease`: `connection` is kept for the next request when it is usable and of the current
    /// conninfo; nil (or a broken one) frees the lease's place.
    func release(_ lease: Lease, keeping connection: Connection?) {
        condition.withLock {
            guard lease.generation == generation else { return }
            if let connection, connection.isOK {
                idle.append(connection)
            } else {
                open -= 1
            }
            condition.signal()
        }
    }
}

private extension String {
    var trimmingPrefixSpaces: String { String(drop { $0 == " " }) }
}
