import Foundation
import Testing

@testable import KeelCore

@Suite("settings table")
struct ConfigSettingsTests {
    /// Every key of repmgr 5.3.3 (its `config_file_settings[]`, hidden ones included).
    static let repmgrKeys: [String] = [
        "node_id", "node_name", "conninfo", "data_directory", "config_directory", "pg_bindir", "repmgr_bindir",
        "replication_user", "replication_type", "location", "use_replication_slots", "witness_sync_interval",
        "log_level", "log_facility", "log_file", "log_status_interval", "pg_basebackup_options", "rsync_options",
        "pg_ctl_options", "ssh_options", "tablespace_mapping", "restore_command", "archive_cleanup_command",
        "recovery_min_apply_delay", "use_primary_conninfo_password", "passfile", "promote_check_timeout",
        "promote_check_interval", "primary_follow_timeout", "standby_follow_timeout", "standby_follow_restart",
        "shutdown_check_timeout", "standby_reconnect_timeout", "wal_receive_check_timeout", "node_rejoin_timeout",
        "archive_ready_warning", "archive_ready_critical", "replication_lag_warning", "replication_lag_critical",
        "barman_host", "barman_server", "barman_config", "failover", "priority", "promote_command", "follow_command",
        "connection_check_type", "reconnect_attempts", "reconnect_interval", "monitor_interval_secs",
        "monitoring_history", "degraded_monitoring_timeout", "async_query_timeout", "primary_notification_timeout",
        "repmgrd_standby_startup_timeout", "repmgrd_pid_file", "repmgrd_exit_on_inactive_node",
        "standby_disconnect_on_failover", "sibling_nodes_disconnect_timeout", "primary_visibility_consensus",
        "always_promote", "failover_validation_command", "election_rerun_interval", "child_nodes_check_interval",
        "child_nodes_connected_min_count", "child_nodes_disconnect_min_count", "child_nodes_connected_include_witness",
        "child_nodes_disconnect_timeout", "child_nodes_disconnect_command", "service_start_command",
        "service_stop_command", "service_restart_command", "service_reload_command", "service_promote_command",
        "repmgrd_service_start_command", "repmgrd_service_stop_command", "event_notification_command",
        "event_notifications", "reconnect_loop_sync", "promote_delay", "failover_delay", "connection_check_query",
    ]

    @Test("every repmgr 5.3 key and Keel's own keys are in the table, once")
    func completeness() {
        let names = ConfigSettings.all.map(\.name)
        #expect(Set(names).count == names.count)
        let keel = ["http_listen", "http_token_file", "remote_transport", "remote_http_port", "lua_hook_timeout", "lua_memory_limit",
                    "dcs", "dcs_ttl", "dcs_prefix", "cluster_name", "dcs_failsafe", "fencing", "fence_action", "fence_command",
                    "primary_isolation_timeout", "auto_rejoin", "logical_slot_failover",
                    "synchronous_mode", "synchronous_mode_strict"]
        for key in Self.repmgrKeys + keel {
            #expect(ConfigSettings.setting(named: key) != nil, "\(key)")
        }
        #expect(names.count == Self.repmgrKeys.count + keel.count)
        for old in ConfigSettings.deprecated {
            #expect(ConfigSettings.setting(named: old.name) == nil)
            #expect(old.isDeprecated)
        }
        #expect(Set(ConfigSettings.deprecated.map(\.name)) == [
            "cluster", "node", "upstream_node", "loglevel", "logfacility", "logfile", "master_reponse_timeout",
            "retry_promote_interval_secs",
        ])
    }

    @Test("every key of the 5.3.3 sample is in the table")
    func sampleKeysKnown() throws {
        let sample = try ConfigFixtures.text("repmgr-5.3-settings.conf")
        let keys = sample.split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces) }
        #expect(keys.count > 70)
        for key in keys { #expect(ConfigSettings.setting(named: key) != nil, "\(key)") }
    }

    @Test("defaults are consistent with their own rows")
    func defaultsConsistent() {
        for setting in ConfigSettings.all {
            switch (setting.kind, setting.defaultValue) {
            case (.integer(let minimum), .int(let value)):
                // node_id -1 = "not set"; repmgrd_standby_startup_timeout -1 = "use standby_reconnect_timeout"
                if !["node_id", "repmgrd_standby_startup_timeout"].contains(setting.name) {
                    #expect(value >= minimum, "\(setting.name)")
                }
                #expect(setting.minimum == minimum)
            case (.boolean, .bool), (.string, .string), (.path, .string), (.interval, .string), (.list, .list):
                break
            case (.enumeration(let allowed, _), .string(let value)):
                #expect(allowed.contains(value), "\(setting.name)")
                #expect(setting.allowedValues == allowed)
            default:
                Issue.record("\(setting.name): default \(setting.defaultValue) does not fit \(setting.kind)")
            }
            if let other = setting.defaultsToKey { #expect(ConfigSettings.setting(named: other) != nil) }
        }
    }

    @Test("repmgr's defaults and minimums",
          arguments: [
              ("witness_sync_interval", ConfigValue.int(15), 1), ("log_status_interval", .int(300), 0),
              ("promote_check_timeout", .int(60), 1), ("promote_check_interval", .int(1), 1),
              ("primary_follow_timeout", .int(60), 1), ("standby_follow_timeout", .int(30), 1),
              ("shutdown_check_timeout", .int(60), 1), ("standby_reconnect_timeout", .int(60), 1),
              ("wal_receive_check_timeout", .int(30), 1), ("node_rejoin_timeout", .int(60), 1),
              ("archive_ready_warning", .int(16), 1), ("archive_ready_critical", .int(128), 1),
              ("replication_lag_warning", .int(300), 1), ("replication_lag_critical", .int(600), 1),
              ("priority", .int(100), 0), ("reconnect_attempts", .int(6), 0), ("reconnect_interval", .int(10), 0),
              ("monitor_interval_secs", .int(2), 1), ("degraded_monitoring_timeout", .int(-1), -1),
              ("async_query_timeout", .int(60), 0), ("primary_notification_timeout", .int(60), 0),
              ("repmgrd_standby_startup_timeout", .int(-1), 0), ("sibling_nodes_disconnect_timeout", .int(30), 0),
              ("election_rerun_interval", .int(15), 1), ("child_nodes_check_interval", .int(5), 1),
              ("child_nodes_connected_min_count", .int(-1), -1), ("child_nodes_disconnect_min_count", .int(-1), -1),
              ("child_nodes_disconnect_timeout", .int(30), 0), ("node_id", .int(-1), 1),
              ("lua_hook_timeout", .int(5), 1), ("lua_memory_limit", .int(64), 1),
          ])
    func integerDefaults(_ key: String, _ value: ConfigValue, _ minimum: Int) throws {
        let setting = try #require(ConfigSettings.setting(named: key))
        #expect(setting.defaultValue == value)
        #expect(setting.minimum == minimum)
    }

    @Test("string, boolean and enum defaults",
          arguments: [
              ("location", ConfigValue.string("default")), ("ssh_options", .string("-q -o ConnectTimeout=10")),
              ("failover", .string("manual")), ("connection_check_type", .string("ping")),
              ("log_level", .string("INFO")), ("log_facility", .string("STDERR")),
              ("replication_type", .string("physical")), ("connection_check_query", .string("SELECT 1")),
              ("use_replication_slots", .bool(false)), ("monitoring_history", .bool(false)),
              ("primary_visibility_consensus", .bool(false)), ("repmgrd_exit_on_inactive_node", .bool(false)),
              ("event_notifications", .list([])), ("tablespace_mapping", .list([])), ("http_listen", .string("")),
              ("dcs", .string("")), ("replication_user", .string("")),
              ("fencing", .string("auto")), ("fence_action", .string("demote")), ("fence_command", .string("")),
              ("primary_isolation_timeout", .int(-1)), ("auto_rejoin", .bool(false)),
          ])
    func otherDefaults(_ key: String, _ value: ConfigValue) throws {
        #expect(try #require(ConfigSettings.setting(named: key)).defaultValue == value)
    }

    @Test("reloadable keys follow repmgrd's SIGHUP list")
    func reloadable() throws {
        for key in ["conninfo", "log_level", "failover", "promote_command", "follow_command", "monitor_interval_secs",
                    "event_notifications", "failover_validation_command", "child_nodes_disconnect_command"] {
            #expect(try #require(ConfigSettings.setting(named: key)).reloadable, "\(key)")
        }
        for key in ["node_id", "node_name", "data_directory", "location", "priority", "use_replication_slots"] {
            #expect(try !#require(ConfigSettings.setting(named: key)).reloadable, "\(key)")
        }
    }

    @Test("case-sensitivity of enumerations follows repmgr")
    func enumCase() throws {
        let failover = try #require(ConfigSettings.setting(named: "failover"))
        #expect(failover.convert("automatic") == .value(.string("automatic")))
        #expect(failover.convert("Automatic") != .value(.string("automatic")))
        let check = try #require(ConfigSettings.setting(named: "connection_check_type"))
        #expect(check.convert("PiNg") == .value(.string("ping")))
    }
}
