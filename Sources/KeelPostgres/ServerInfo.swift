import KeelCore

/// What a running server says about itself, read in one round trip for `cluster show`, `node status`,
/// `node check`, clone checks and registration.
public struct ServerInfo: Sendable {
    /// `pg_is_in_recovery()`: true on a standby.
    public var isInRecovery: Bool
    /// `pg_control_system().system_identifier`: equal on a primary and its standbys, different on a witness.
    public var systemIdentifier: String
    /// The current timeline: from the current WAL file on a primary (right after a promotion the last
    /// checkpoint still shows the old one), from the WAL receiver or the last replayed record on a standby.
    public var timeline: Int
    /// `server_version_num`, e.g. 150018.
    public var versionNumber: Int
    /// `server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    public var version: String
    /// Primary: `pg_current_wal_lsn()`; standby: last received (or replayed) position.
    public var lsn: LSN?
    /// Standby: last replayed position (`pg_last_wal_replay_lsn()`).
    public var replayLSN: LSN?
    /// Standby: seconds since the last replayed transaction when replay is behind receive, else 0.
    public var replayLagSeconds: Int?
    /// `max_wal_senders` and walsenders in use (`pg_stat_replication` rows).
    public var maxWalSenders: Int
    public var walSendersInUse: Int
    /// `max_replication_slots` and slots in use.
    public var maxReplicationSlots: Int
    public var replicationSlotsInUse: Int
    /// Standby: `pg_stat_wal_receiver.status` ("streaming" …) and the `host`/`port` it receives from.
    public var walReceiverStatus: String?
    public var walReceiverConninfo: String?
    /// Standby: the host and port its WAL receiver streams from.
    public var walReceiverSender: (host: String, port: Int)? {
        guard let c = walReceiverConninfo, let host = Conninfo.value("host", in: c),
              let port = Conninfo.value("port", in: c).flatMap(Int.init) else { return nil }
        return (host, port)
    }
    /// `archive_mode`, `archive_command`.
    public var archiveMode: String
    public var archiveCommand: String
    /// `pg_database_size` of all databases, bytes.
    public var totalDataSize: Int64

    /// Reads the server's state. Throws `PostgresError`. `dataSize: false` leaves `totalDataSize` 0 and
    /// spares the server the walk over every database's files (`cluster show` does not use it).
    public static func read(_ connection: Connection, dataSize: Bool = true) throws(PostgresError) -> ServerInfo {
        let sizeQuery = dataSize ? "(SELECT sum(pg_catalog.pg_database_size(oid))::bigint FROM pg_catalog.pg_database)" : "NULL::bigint"
        guard let row = try connection.queryRow("""
            SELECT pg_catalog.pg_is_in_recovery() AS in_recovery,
                   (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) AS sysid,
                   pg_catalog.current_setting('server_version_num')::int AS version_num,
                   pg_catalog.current_setting('server_version') AS version,
                   CASE WHEN pg_catalog.pg_is_in_recovery()
                        THEN COALESCE(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())
                        ELSE pg_catalog.pg_current_wal_lsn() END AS lsn,
                   pg_catalog.pg_last_wal_replay_lsn() AS replay_lsn,
                   CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN NULL
                        WHEN pg_catalog.pg_last_wal_receive_lsn() IS NULL
                          OR pg_catalog.pg_last_wal_receive_lsn() <= pg_catalog.pg_last_wal_replay_lsn() THEN 0
                        ELSE COALESCE(EXTRACT(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp())::int, 0)
                   END AS replay_lag,
                   CASE WHEN pg_catalog.pg_is_in_recovery()
                        THEN COALESCE((SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver),
                                      (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()))
                        ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int
                   END AS timeline,
                   pg_catalog.current_setting('max_wal_senders')::int AS max_wal_senders,
                   (SELECT count(*) FROM pg_catalog.pg_stat_replication)::int AS wal_senders,
                   pg_catalog.current_setting('max_replication_slots')::int AS max_slots,
                   (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int AS slots,
                   (SELECT status FROM pg_catalog.pg_stat_wal_receiver) AS receiver_status,
                   (SELECT 'host=' || sender_host || ' port=' || sender_port FROM pg_catalog.pg_stat_wal_receiver) AS receiver_conninfo,
                   pg_catalog.current_setting('archive_mode') AS archive_mode,
                   pg_catalog.current_setting('archive_command') AS archive_command,
                   \(sizeQuery) AS data_size
            """) else {
            throw PostgresError(kind: .query, message: "no row from server state query", target: connection.target)
        }
        return ServerInfo(
            isInRecovery: row.bool("in_recovery") ?? false, systemIdentifier: row.string("sysid") ?? "",
            timeline: row.int("timeline") ?? 0, versionNumber: row.int("version_num") ?? 0, version: row.string("version") ?? "",
            lsn: row.lsn("lsn"), replayLSN: row.lsn("replay_lsn"), replayLagSeconds: row.int("replay_lag"),
            maxWalSenders: row.int("max_wal_senders") ?? 0, walSendersInUse: row.int("wal_senders") ?? 0,
            maxReplicationSlots: row.int("max_slots") ?? 0, replicationSlotsInUse: row.int("slots") ?? 0,
            walReceiverStatus: row.string("receiver_status"), walReceiverConninfo: row.string("receiver_conninfo"),
            archiveMode: row.string("archive_mode") ?? "off", archiveCommand: row.string("archive_command") ?? "",
            totalDataSize: Int64(row.int("data_size") ?? 0))
    }
}
