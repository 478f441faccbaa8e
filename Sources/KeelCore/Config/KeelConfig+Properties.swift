/// Typed accessors for the settings used across Keel. Each returns the explicit value or the
/// table's default (`ConfigSettings.all`); durations are in seconds.
extension KeelConfig {
    // MARK: node

    /// `node_id`: this node's unique ID (≥ 1; always set in a loaded configuration).
    public var nodeID: Int { int("node_id") }
    /// `node_name`: unique name, ≤ 63 printable ASCII characters; the `application_name`.
    public var nodeName: String { string("node_name") }
    /// `conninfo`: how every node reaches this one. May hold a password: print it only through
    /// `ConninfoSyntax.masked(_:)`.
    public var conninfo: String { string("conninfo") }
    /// `data_directory`, canonicalized.
    public var dataDirectory: String { string("data_directory") }
    /// `config_directory` ('' = configuration files live in the data directory).
    public var configDirectory: String { string("config_directory") }
    /// `pg_bindir` ('' = binaries on `PATH`).
    public var pgBindir: String { string("pg_bindir") }
    /// `repmgr_bindir` ('' = on `PATH`).
    public var repmgrBindir: String { string("repmgr_bindir") }

    // MARK: replication

    /// `replication_user`, or when empty the `user` of `conninfo`; '' when neither is given
    /// (libpq's default user then applies).
    public var replicationUser: String {
        let explicit = string("replication_user")
        if !explicit.isEmpty { return explicit }
        return ConninfoSyntax.value(of: "user", in: conninfo) ?? ""
    }
    /// `location` (default `default`).
    public var location: String { string("location") }
    /// `priority` (≥ 0; 0 = never promote; default 100).
    public var priority: Int { int("priority") }
    /// `use_replication_slots` (default false).
    public var useReplicationSlots: Bool { bool("use_replication_slots") }
    /// `tablespace_mapping` entries in file order.
    public var tablespaceMappings: [TablespaceMapping] { list("tablespace_mapping").compactMap(TablespaceMapping.init) }

    // MARK: failover

    /// `failover` (default `.manual`).
    public var failover: FailoverMode { FailoverMode(rawValue: string("failover")) ?? .manual }
    /// `connection_check_type` (default `.ping`).
    public var connectionCheckType: ConnectionCheckType {
        ConnectionCheckType(rawValue: string("connection_check_type")) ?? .ping
    }
    /// `promote_command` (shell command or `lua:PATH[#function]`).
    public var promoteCommand: String { string("promote_command") }
    /// `follow_command` (shell command with `%n`, or `lua:PATH[#function]`).
    public var followCommand: String { string("follow_command") }
    /// `failover_validation_command` ('' = no validation).
    public var failoverValidationCommand: String { string("failover_validation_command") }
    /// `monitor_interval_secs`, seconds (default 2).
    public var monitorIntervalSecs: Int { int("monitor_interval_secs") }
    /// `reconnect_attempts` (default 6).
    public var reconnectAttempts: Int { int("reconnect_attempts") }
    /// `reconnect_interval`, seconds (default 10).
    public var reconnectInterval: Int { int("reconnect_interval") }
    /// `election_rerun_interval`, seconds (default 15).
    public var electionRerunInterval: Int { int("election_rerun_interval") }
    /// `primary_visibility_consensus` (default false).
    public var primaryVisibilityConsensus: Bool { bool("primary_visibility_consensus") }
    /// `repmgrd_standby_startup_timeout`, seconds; `standby_reconnect_timeout` when not set.
    public var repmgrdStandbyStartupTimeout: Int { int("repmgrd_standby_startup_timeout") }

    // MARK: events and logging

    /// `event_notification_command` ('' = none).
    public var eventNotificationCommand: String { string("event_notification_command") }
    /// `event_notifications` ([] = every event).
    public var eventNotifications: [String] { list("event_notifications") }
    /// `log_level`, upper-case (default `INFO`).
    public var logLevel: String { string("log_level") }
    /// `log_facility`, upper-case (default `STDERR`).
    public var logFacility: String { string("log_facility") }
    /// `log_file` ('' = stderr).
    public var logFile: String { string("log_file") }

    // MARK: node check

    /// `replication_lag_warning`, seconds (default 300).
    public var replicationLagWarning: Int { int("replication_lag_warning") }
    /// `replication_lag_critical`, seconds (default 600).
    public var replicationLagCritical: Int { int("replication_lag_critical") }
    /// `archive_ready_warning`, files (default 16).
    public var archiveReadyWarning: Int { int("archive_ready_warning") }
    /// `archive_ready_critical`, files (default 128).
    public var archiveReadyCritical: Int { int("archive_ready_critical") }

    // MARK: clone and remote

    /// `pg_basebackup_options` ('' = none).
    public var pgBasebackupOptions: String { string("pg_basebackup_options") }
    /// `ssh_options` (default `-q -o ConnectTimeout=10`).
    public var sshOptions: String { string("ssh_options") }

    // MARK: Keel

    /// `lua_hook_timeout`, seconds a Lua hook may run (default 5).
    public var luaHookTimeout: Int { int("lua_hook_timeout") }
    /// `lua_memory_limit`, megabytes the Lua VM may allocate (default 64).
    public var luaMemoryLimitMB: Int { int("lua_memory_limit") }
    /// `logical_slot_failover`: on PostgreSQL 17+, standbys sync the primary's failover logical slots and
    /// failovers prefer a standby holding them (see `LogicalSlotFailover`).
    public var logicalSlotFailover: Bool { bool("logical_slot_failover") }
    /// `http_listen`, `host:port` of keeld's HTTP endpoint ('' = off).
    public var httpListen: String { string("http_listen") }
    /// `http_token_file`, the bearer token of keeld's HTTP control routes ('' = no control routes).
    public var httpTokenFile: String { string("http_token_file") }
    /// `dcs`, URL of a distributed configuration store ('' = none).
    public var dcs: String { string("dcs") }

    /// `synchronous_mode`: `off` or `quorum:N` (an invalid value was refused at load, and reads as `off`).
    public var synchronousMode: SynchronousMode { (try? SynchronousMode.parse(string("synchronous_mode"))) ?? .off }
    /// `synchronous_mode_strict`: commits wait rather than drop below N sync standbys.
    public var synchronousModeStrict: Bool { bool("synchronous_mode_strict") }

    /// `node "name" (ID: n)` for this node, as messages and events name nodes (`NodeRecord.nodeLabel`).
    public var nodeLabel: String { "node \"\(nodeName)\" (ID: \(nodeID))" }
}
