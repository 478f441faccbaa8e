/// The settings table: every key repmgr 5.3.3 reads (`R:configdata.c` `config_file_settings[]`,
/// documented and hidden), with repmgr's defaults (`R:repmgr.h` l.104–150, `R:log.h`), then
/// Keel's own keys. The parser is one generic loop over this table (as repmgr's
/// `parse_configuration_item`); nothing about a key is decided in code elsewhere.
///
/// Units: every timeout and interval is in seconds unless the row says otherwise.
public enum ConfigSettings {
    /// Every live setting, in the order of repmgr.conf.sample's sections.
    public static let all: [ConfigSetting] = [
        // node information (required)
        int("node_id", -1, min: 1, .node, "unique positive ID of this node (required; -1 = not set)"),
        str("node_name", "", max: 63, .node, "unique name, printable ASCII, used as application_name (required)"),
        str("conninfo", "", max: 1024, .node, reload: true, "libpq keyword/value string to reach this node (required)"),
        path("data_directory", .node, "PostgreSQL data directory (required)"),
        // server
        path("config_directory", .server, "directory of postgresql.conf when outside the data directory"),
        path("pg_bindir", .server, "directory of the PostgreSQL binaries (not applied to promote/follow_command)"),
        path("repmgr_bindir", .server, "directory of the repmgr/keel binaries on remote nodes"),
        // replication
        str("replication_user", "", .replication, "user for replication connections ('' = the conninfo's user)"),
        oneOf("replication_type", "physical", ["physical"], caseSensitive: true, .replication,
              "replication type; only \"physical\" exists"),
        str("location", "default", .replication, "location name; failover only among nodes seeing the primary's location"),
        bool("use_replication_slots", false, .replication, "use a physical slot repmgr_slot_<node_id> per standby"),
        // witness
        int("witness_sync_interval", 15, min: 1, .witness, "seconds between witness metadata refreshes"),
        // logging
        oneOf("log_level", "INFO", ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "ALERT", "CRIT", "EMERG"],
              caseSensitive: false, .logging, reload: true, "lowest level logged"),
        oneOf("log_facility", "STDERR", ["STDERR", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5",
                                         "LOCAL6", "LOCAL7", "USER"],
              caseSensitive: false, .logging, reload: true, "STDERR, or the syslog facility"),
        path("log_file", .logging, reload: true, "log to this file instead of stderr"),
        int("log_status_interval", 300, min: 0, .logging, reload: true, "seconds between daemon status log lines"),
        // events
        str("event_notification_command", "", max: 1024, .events, reload: true,
            "command (or lua:PATH) run for each event; placeholders %n %e %s %t %d %p %c %a"),
        list("event_notifications", comma: true, .events, reload: true,
             "events passed to event_notification_command (empty = all); comma list, repeats append"),
        // clone
        bool("use_primary_conninfo_password", false, .clone, "put $PGPASSWORD into primary_conninfo"),
        str("passfile", "", .clone, "passfile= added to primary_conninfo"),
        str("pg_ctl_options", "", .clone, "extra options for pg_ctl"),
        str("pg_basebackup_options", "", .clone, "extra options for pg_basebackup"),
        str("rsync_options", "", .clone, "extra options for rsync"),
        str("ssh_options", "-q -o ConnectTimeout=10", .clone, "options for ssh to other nodes"),
        list("tablespace_mapping", comma: false, .clone,
             "OLDDIR=NEWDIR (\\= for a literal =); each occurrence adds one mapping"),
        str("restore_command", "", .clone, "restore_command written into the recovery configuration"),
        str("archive_cleanup_command", "", .clone, "archive_cleanup_command written into the recovery configuration"),
        ConfigSetting(name: "recovery_min_apply_delay", kind: .interval, defaultValue: .string(""), area: .clone,
                      doc: "recovery_min_apply_delay for standbys; integer with unit ms/s/min/h/d"),
        // standby promote
        int("promote_check_timeout", 60, min: 1, .promote, "seconds to wait for a promotion to finish"),
        int("promote_check_interval", 1, min: 1, .promote, "seconds between promotion checks"),
        // standby follow
        int("primary_follow_timeout", 60, min: 1, .follow, "seconds to wait for the new primary to be reachable"),
        int("standby_follow_timeout", 30, min: 1, .follow, "seconds to wait for the standby to connect to its new upstream"),
        bool("standby_follow_restart", false, .follow, "restart instead of reload on follow (PostgreSQL 13+)"),
        // switchover
        int("shutdown_check_timeout", 60, min: 1, .switchover, "seconds to wait for the demoted primary to shut down"),
        int("standby_reconnect_timeout", 60, min: 1, .switchover,
            "seconds to wait for the demoted primary to reconnect as a standby (>= node_rejoin_timeout)"),
        int("wal_receive_check_timeout", 30, min: 1, .switchover, "seconds to wait for the WAL receiver to catch up"),
        // rejoin
        int("node_rejoin_timeout", 60, min: 1, .rejoin, "seconds to wait for a rejoined node to connect"),
        // barman
        str("barman_host", "", .barman, "host of the Barman server (set together with barman_server)"),
        str("barman_server", "", .barman, "[server] section name in the Barman configuration"),
        str("barman_config", "", .barman, "path of a non-default Barman configuration file"),
        // failover (repmgrd / keeld)
        oneOf("failover", "manual", ["automatic", "manual"], caseSensitive: true, .failover, reload: true,
              "automatic failover by the daemon, or manual"),
        int("priority", 100, min: 0, .failover, "promotion preference; 0 = never promote"),
        str("promote_command", "", .failover, reload: true, "command (or lua:PATH) the daemon runs to promote this node"),
        str("follow_command", "", .failover, reload: true, "command (or lua:PATH) to follow a new primary; %n = its ID"),
        int("primary_notification_timeout", 60, min: 0, .failover, reload: true,
            "seconds a standby waits for the new primary's notification"),
        ConfigSetting(name: "repmgrd_standby_startup_timeout", kind: .integer(minimum: 0), defaultValue: .int(-1),
                      reloadable: true, area: .failover, defaultsToKey: "standby_reconnect_timeout",
                      doc: "seconds the daemon waits for a starting standby (not set = standby_reconnect_timeout)"),
        bool("monitoring_history", false, .failover, reload: true, "write repmgr.monitoring_history rows"),
        int("monitor_interval_secs", 2, min: 1, .failover, reload: true, "seconds between monitoring cycles"),
        int("degraded_monitoring_timeout", -1, min: -1, .failover, reload: true,
            "seconds in degraded monitoring before the daemon exits (-1 = never)"),
        int("async_query_timeout", 60, min: 0, .failover, reload: true, "seconds before an asynchronous query is cancelled"),
        path("repmgrd_pid_file", .failover, "PID file of the daemon ('' = $TMPDIR or /tmp)"),
        bool("repmgrd_exit_on_inactive_node", false, .failover,
             "exit instead of reactivating an inactive node record (5.3+)"),
        bool("standby_disconnect_on_failover", false, .failover, reload: true,
             "disconnect WAL receivers before the election (same on all nodes)"),
        int("sibling_nodes_disconnect_timeout", 30, min: 0, .failover, reload: true,
            "seconds to wait for siblings to disconnect their WAL receivers"),
        oneOf("connection_check_type", "ping", ["ping", "connection", "query"], caseSensitive: false, .failover,
              reload: true, "how the upstream is checked: PQping, a new connection, or SELECT 1"),
        bool("primary_visibility_consensus", false, .failover, reload: true,
             "cancel failover if any sibling saw the primary recently (same on all nodes)"),
        bool("always_promote", false, .failover, reload: true, "promote even when local metadata is stale"),
        str("failover_validation_command", "", .failover, reload: true,
            "command (or lua:PATH) that must allow a promotion; %n %a %v %u %t"),
        int("election_rerun_interval", 15, min: 1, .failover, "seconds before an election vetoed by validation reruns"),
        int("reconnect_attempts", 6, min: 0, .failover, reload: true, "attempts to reach the upstream before failover"),
        int("reconnect_interval", 10, min: 0, .failover, reload: true, "seconds between reconnection attempts"),
        // child node monitoring (on the primary)
        int("child_nodes_check_interval", 5, min: 1, .childMonitoring, reload: true, "seconds between child node checks"),
        int("child_nodes_connected_min_count", -1, min: -1, .childMonitoring, reload: true,
            "act when fewer children are connected (-1 = off)"),
        int("child_nodes_disconnect_min_count", -1, min: -1, .childMonitoring, reload: true,
            "act when more children are disconnected (-1 = off; ignored with connected_min_count)"),
        bool("child_nodes_connected_include_witness", false, .childMonitoring, reload: true,
             "count a connected witness as a child"),
        int("child_nodes_disconnect_timeout", 30, min: 0, .childMonitoring, reload: true,
            "seconds children may stay disconnected before the command runs"),
        str("child_nodes_disconnect_command", "", .childMonitoring, reload: true,
            "command (or lua:PATH) run once when children are missing; %p = primary ID"),
        // service commands
        str("service_start_command", "", .service, "command to start PostgreSQL ('' = pg_ctl)"),
        str("service_stop_command", "", .service, "command to stop PostgreSQL ('' = pg_ctl)"),
        str("service_restart_command", "", .service, "command to restart PostgreSQL ('' = pg_ctl)"),
        str("service_reload_command", "", .service, "command to reload PostgreSQL ('' = pg_ctl)"),
        str("service_promote_command", "", .service, "command to promote PostgreSQL ('' = pg_ctl promote)"),
        str("repmgrd_service_start_command", "", .service, "command to start the daemon (daemon start)"),
        str("repmgrd_service_stop_command", "", .service, "command to stop the daemon (daemon stop)"),
        // node check thresholds
        int("archive_ready_warning", 16, min: 1, .nodeCheck, "pending archive files for a warning (< critical)"),
        int("archive_ready_critical", 128, min: 1, .nodeCheck, "pending archive files for a critical"),
        int("replication_lag_warning", 300, min: 1, .nodeCheck, "seconds of lag for a warning (< critical)"),
        int("replication_lag_critical", 600, min: 1, .nodeCheck, "seconds of lag for a critical"),
        // undocumented (configdata.c tail)
        bool("reconnect_loop_sync", false, .hidden, "experimental: synchronise the reconnect loop"),
        int("promote_delay", 0, min: 0, .hidden, "testing: seconds to sleep before promoting"),
        int("failover_delay", 0, min: 0, .hidden, "testing: seconds to sleep before failover"),
        str("connection_check_query", "SELECT 1", .hidden, "query run by connection_check_type=query"),
        // Keel's own
        str("http_listen", "", .keel, reload: true, "host:port of keeld's health/metrics HTTP endpoint ('' = off)"),
        path("http_token_file", .keel, reload: true, "file holding the bearer token of keeld's HTTP control routes, mode 0600 ('' = no control routes)"),
        oneOf("remote_transport", "ssh", ["ssh", "http"], caseSensitive: false, .keel,
              "how keel runs its actions on other nodes (switchover, --siblings-follow, cluster matrix|crosscheck): ssh or http (their keeld)"),
        str("remote_http_port", "", .keel, "port of other nodes' keeld for remote_transport=http: PORT or NODE_ID:PORT,... ('' = port of http_listen)"),
        int("lua_hook_timeout", 5, min: 1, .keel, reload: true, "seconds a Lua hook may run"),
        int("lua_memory_limit", 64, min: 1, .keel, "MB of memory each Lua hook script's VM may allocate"),
        str("dcs", "", .keel, "consensus store: etcd:http://HOST:PORT[,http://HOST:PORT...] ('' = none: repmgr's election only)"),
        int("dcs_ttl", 30, min: 5, .keel, "seconds of the leader key's lease in the consensus store"),
        str("dcs_prefix", "", .keel, "key prefix in the consensus store ('' = /keel/<cluster_name>/)"),
        str("cluster_name", "keel", max: 63, .keel, "name of the cluster (the consensus store's default prefix)"),
        bool("dcs_failsafe", false, .keel, reload: true, "a primary that loses the consensus store keeps running while it sees every standby"),
        oneOf("fencing", "auto", ["auto", "strict", "off"], caseSensitive: false, .keel, reload: true,
              "fence an isolated or former primary: auto (not in two-node clusters), strict, off"),
        oneOf("fence_action", "demote", ["demote", "stop"], caseSensitive: false, .keel, reload: true,
              "how a primary fences: restart read-only in recovery (demote) or stop"),
        str("fence_command", "", .keel, reload: true, "command (or lua:PATH) run after this node fenced itself; %n %a %d"),
        int("primary_isolation_timeout", -1, min: -1, .keel, reload: true,
            "seconds an isolated primary waits before fencing (-1 = derived from reconnect_*)"),
        bool("auto_rejoin", false, .keel, reload: true, "a fenced former primary rejoins the current primary by itself"),
        bool("logical_slot_failover", false, .keel,
             "PostgreSQL 17+: logical slots with failover=true follow a failover (slot sync on standbys, synchronized_standby_slots)"),
        str("synchronous_mode", "off", .keel, reload: true,
            "off, or quorum:N: keeld keeps synchronous_standby_names = 'ANY N (...)' over the healthy standbys"),
        bool("synchronous_mode_strict", false, .keel, reload: true,
             "with fewer healthy standbys than N, commits wait instead of dropping to fewer (or no) sync standbys"),
    ]

    /// Keys repmgr 5 no longer reads: each is a warning naming file and line, and its value is
    /// ignored (`R:configfile.c` l.611–657; the `doc` is repmgr's warning text).
    public static let deprecated: [ConfigSetting] = [
        gone("cluster", nil, "parameter \"cluster\" is deprecated and will be ignored"),
        gone("node", "node_id", "parameter \"node\" has been renamed to \"node_id\""),
        gone("upstream_node", nil,
             "parameter \"upstream_node\" has been removed; use \"--upstream-node-id\" when cloning a standby"),
        gone("loglevel", "log_level", "parameter \"loglevel\" has been renamed to \"log_level\""),
        gone("logfacility", "log_facility", "parameter \"logfacility\" has been renamed to \"log_facility\""),
        gone("logfile", "log_file", "parameter \"logfile\" has been renamed to \"log_file\""),
        gone("master_reponse_timeout", "async_query_timeout",
             "parameter \"master_reponse_timeout\" has been removed; use \"async_query_timeout\" instead"),
        gone("retry_promote_interval_secs", "primary_notification_timeout",
             "parameter \"retry_promote_interval_secs\" has been removed; use \"primary_notification_timeout\" instead"),
    ]

    /// The keys that must be set (`R:configfile.c`, "required parameter was not found").
    public static let required: [String] = ["node_id", "node_name", "conninfo", "data_directory"]

    /// The live row named `name` (case-sensitive), or `nil`.
    public static func setting(named name: String) -> ConfigSetting? { byName[name] }

    /// The deprecated row named `name`, or `nil`.
    public static func deprecatedSetting(named name: String) -> ConfigSetting? { deprecatedByName[name] }

    private static let byName: [String: ConfigSetting] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    private static let deprecatedByName: [String: ConfigSetting] = Dictionary(
        deprecated.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    // MARK: - Row constructors (keep each row on one line)

    private static func int(
        _ name: String, _ value: Int, min: Int, _ area: ConfigSetting.Area, reload: Bool = false, _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .integer(minimum: min), defaultValue: .int(value), reloadable: reload,
                      area: area, doc: doc)
    }

    private static func bool(
        _ name: String, _ value: Bool, _ area: ConfigSetting.Area, reload: Bool = false, _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .boolean, defaultValue: .bool(value), reloadable: reload, area: area, doc: doc)
    }

    private static func str(
        _ name: String, _ value: String, max: Int? = nil, _ area: ConfigSetting.Area, reload: Bool = false,
        _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .string(maxLength: max), defaultValue: .string(value), reloadable: reload,
                      area: area, doc: doc)
    }

    private static func path(
        _ name: String, _ area: ConfigSetting.Area, reload: Bool = false, _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .path, defaultValue: .string(""), reloadable: reload, area: area, doc: doc)
    }

    private static func oneOf(
        _ name: String, _ value: String, _ allowed: [String], caseSensitive: Bool, _ area: ConfigSetting.Area,
        reload: Bool = false, _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .enumeration(allowed: allowed, caseSensitive: caseSensitive),
                      defaultValue: .string(value), reloadable: reload, area: area, doc: doc)
    }

    private static func list(
        _ name: String, comma: Bool, _ area: ConfigSetting.Area, reload: Bool = false, _ doc: String
    ) -> ConfigSetting {
        ConfigSetting(name: name, kind: .list(commaSeparated: comma), defaultValue: .list([]), reloadable: reload,
                      area: area, doc: doc)
    }

    private static func gone(_ name: String, _ replacement: String?, _ warning: String) -> ConfigSetting {
        ConfigSetting(name: name, kind: .string(maxLength: nil), defaultValue: .string(""), area: .deprecated,
                      deprecatedReplacement: replacement, doc: warning)
    }
}
