import Foundation
import Testing

@testable import KeelCore

@Suite("repmgr.conf parser: fixtures")
struct ConfigFixtureTests {
    @Test("the repmgr deployment guide's file loads with its exact values")
    func guideFixture() throws {
        let config = try KeelConfig.load(path: ConfigFixtures.path("deployment-guide.conf"))
        #expect(config.warnings.isEmpty)
        #expect(config.path == ConfigFixtures.path("deployment-guide.conf"))
        #expect(config.nodeID == 1)
        #expect(config.nodeName == "node1")
        #expect(config.conninfo == "host=127.0.0.1 port=5432 user=repmgr dbname=repmgr connect_timeout=2")
        #expect(config.dataDirectory == "/data/pgsql/main")
        #expect(config.replicationUser == "repmgr")
        #expect(config.string("repmgr_bindir") == "/usr/lib/postgresql/11/bin")
        #expect(config.pgBindir == "/usr/lib/postgresql/11/bin")
        #expect(config.logLevel == "INFO")
        #expect(config.logFile == "/data/pglog/repmgr/repmgrd.log")
        #expect(config.int("log_status_interval") == 10)
        #expect(config.string("service_start_command")
                == "/usr/lib/postgresql/11/bin/pg_ctl -D /data/pgsql/main/ start -o '-c config_file=/etc/postgresql/11/main/postgresql.conf' -l /data/pglog/start.log")
        #expect(config.string("service_stop_command") == "/usr/lib/postgresql/11/bin/pg_ctl stop")
        #expect(config.string("service_restart_command")
                == "/usr/lib/postgresql/11/bin/pg_ctl -D /data/pgsql/main/ restart -o '-c config_file=/etc/postgresql/11/main/postgresql.conf' -l /data/pglog/start.log")
        #expect(config.string("service_reload_command")
                == "su - postgres -c '/usr/lib/postgresql/11/bin/pg_ctl reload' ")
        #expect(config.string("repmgrd_pid_file") == "/tmp/repmgrd.pid")
        #expect(config.string("repmgrd_service_start_command")
                == "/usr/lib/postgresql/11/bin/repmgrd -f /etc/postgresql/11/main/repmgr.conf start")
        #expect(config.string("repmgrd_service_stop_command") == "kill -9 `cat /tmp/repmgrd.pid`")
        #expect(config.failover == .automatic)
        #expect(config.promoteCommand
                == "/usr/lib/postgresql/11/bin/repmgr -f /etc/postgresql/11/main/repmgr.conf standby promote  --log-to-file")
        #expect(config.followCommand
                == "/usr/lib/postgresql/11/bin/repmgr -f /etc/postgresql/11/main/repmgr.conf  standby follow --log-to-file --upstream-node-id=%n")
        #expect(config.location == "location1")
        #expect(config.priority == 100)
        #expect(config.bool("monitoring_history") == true)
        #expect(config.reconnectInterval == 10)
        #expect(config.reconnectAttempts == 6)
        #expect(config.connectionCheckType == .ping)
        #expect(config.monitorIntervalSecs == 5)
        #expect(config.useReplicationSlots == true)
        #expect(!config.isSet("failover_validation_command"))
        #expect(config.failoverValidationCommand == "")
        #expect(config.location(of: "node_id") == ConfigLocation(file: config.path, line: 4))
        #expect(config.location(of: "use_replication_slots")?.line == 44)
    }

    /// repmgr.conf.sample ships every line commented out; with the required keys added, every
    /// other setting has repmgr's default.
    @Test("the 5.3.3 sample, commented out as shipped, plus the required keys: all defaults")
    func sampleCommentedOut() throws {
        let sample = try ConfigFixtures.text("repmgr-5.3-settings.conf")
        let commented = sample.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("#") || $0.isEmpty ? String($0) : "#" + $0 }
            .joined(separator: "\n")
        let config = try KeelConfig.parse(text: commented + "\n" + ConfigFixtures.required,
                                          file: ConfigFixtures.virtualFile)
        #expect(config.warnings.isEmpty)
        for setting in ConfigSettings.all where !ConfigSettings.required.contains(setting.name) {
            #expect(!config.isSet(setting.name), "\(setting.name)")
            if setting.defaultsToKey == nil {
                #expect(config.value(setting.name) == setting.defaultValue, "\(setting.name)")
            }
        }
        // the values repmgr documents as defaults
        #expect(config.location == "default")
        #expect(config.failover == .manual)
        #expect(config.priority == 100)
        #expect(config.connectionCheckType == .ping)
        #expect(config.reconnectAttempts == 6)
        #expect(config.reconnectInterval == 10)
        #expect(config.monitorIntervalSecs == 2)
        #expect(config.int("degraded_monitoring_timeout") == -1)
        #expect(config.repmgrdStandbyStartupTimeout == 60)
        #expect(config.sshOptions == "-q -o ConnectTimeout=10")
        #expect(config.logLevel == "INFO")
        #expect(config.logFacility == "STDERR")
        #expect(config.archiveReadyWarning == 16)
        #expect(config.archiveReadyCritical == 128)
        #expect(config.replicationLagWarning == 300)
        #expect(config.replicationLagCritical == 600)
        #expect(config.eventNotifications == [])
        #expect(config.luaHookTimeout == 5)
        #expect(config.luaMemoryLimitMB == 64)
        #expect(config.replicationUser == "repmgr")  // conninfo's user
    }

    /// Uncommented as the fixture is, three lines have no value: PostgreSQL's lexer calls that a
    /// syntax error, and all three are reported together.
    @Test("the 5.3.3 sample as-is: the three value-less lines are errors, reported together")
    func sampleAsIs() throws {
        let error = try #require(ConfigFixtures.failure(
            try ConfigFixtures.text("repmgr-5.3-settings.conf"), withRequired: false,
            file: ConfigFixtures.path("repmgr-5.3-settings.conf")))
        let syntax = error.errors.filter { $0.message.hasPrefix("syntax error") }
        #expect(syntax.map(\.line) == [3, 30, 56])
        #expect(syntax.map(\.key) == ["node_id", "recovery_min_apply_delay", "repmgrd_pid_file"])
        #expect(syntax.allSatisfy { $0.message.contains("missing value") })
        #expect(syntax.allSatisfy { $0.file == ConfigFixtures.path("repmgr-5.3-settings.conf") })
        #expect(error.warnings.isEmpty)  // every key of the sample is known
    }

    /// With the value-less lines given values, every key of the sample is known and the values
    /// are repmgr's defaults, except where the sample shows a non-default example.
    @Test("the 5.3.3 sample with values: every key known, sample values = defaults")
    func sampleWithValues() throws {
        var text = try ConfigFixtures.text("repmgr-5.3-settings.conf")
        text = text.replacingOccurrences(of: "node_id=\n", with: "node_id=1\n")
            .replacingOccurrences(of: "node_name=''", with: "node_name='node1'")
            .replacingOccurrences(of: "conninfo=''", with: "conninfo='host=db1 dbname=repmgr user=repmgr'")
            .replacingOccurrences(of: "data_directory=''", with: "data_directory='/srv/pg'")
            .replacingOccurrences(of: "recovery_min_apply_delay=\n", with: "recovery_min_apply_delay=''\n")
            .replacingOccurrences(of: "repmgrd_pid_file=\n", with: "repmgrd_pid_file=''\n")
        let config = try KeelConfig.parse(text: text, file: ConfigFixtures.virtualFile)
        #expect(config.warnings.isEmpty)
        let sampleExamples: Set<String> = [
            "node_id", "node_name", "conninfo", "data_directory", "replication_user", "repmgrd_standby_startup_timeout",
        ]
        for setting in ConfigSettings.all where config.isSet(setting.name) && !sampleExamples.contains(setting.name) {
            #expect(config.value(setting.name) == setting.defaultValue, "\(setting.name)")
        }
        #expect(config.replicationUser == "repmgr")
        #expect(config.repmgrdStandbyStartupTimeout == 60)
        #expect(config.tablespaceMappings.isEmpty)
    }
}

@Suite("repmgr.conf parser: diagnostics")
struct ConfigDiagnosticTests {
    @Test("the operator's message lists errors by line, whatever stage found them; a missing key last")
    func errorsInLineOrder() throws {
        // The conninfo is checked after every value is read: its error still comes first.
        let error = try #require(ConfigFixtures.failure("""
            node_id=1
            node_name='n1'
            conninfo='host=x port'
            priority=10s
            log_level=LOUD
            failover=sometimes x
            """, withRequired: false))
        let lines = error.keelError.message.split(separator: "\n").dropFirst().map(String.init)
        let numbers = lines.compactMap { line in line.split(separator: ":").dropFirst().first.flatMap { Int($0) } }
        #expect(numbers == [3, 4, 5, 6], "\(lines)")
        #expect(lines.last?.contains("data_directory") == true, "\(lines)")
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        var line: String
        var key: String?
        var fragment: String
        var testDescription: String { line }
    }

    static let malformed: [Malformed] = [
        .init(line: "conninfo=host=a user=b", key: "conninfo", fragment: "syntax error near token \"=\""),
        .init(line: "location='unterminated", key: "location", fragment: "unterminated quoted string"),
        .init(line: "conninfo='host=a user=b", key: "conninfo", fragment: "unterminated quoted string"),
        .init(line: "priority=", key: "priority", fragment: "missing value"),
        .init(line: "priority", key: "priority", fragment: "missing value"),
        .init(line: "priority = # nothing", key: "priority", fragment: "near end of line"),
        .init(line: "= 5", key: nil, fragment: "syntax error near token \"=\""),
        .init(line: "'quoted'=5", key: nil, fragment: "near token \"'quoted'\""),
        .init(line: "5=5", key: nil, fragment: "near token \"5\""),
        .init(line: "data_directory=/var/lib/pg", key: "data_directory", fragment: "near token \"/\""),
        .init(line: "priority 1 2", key: "priority", fragment: "near token \"2\""),
        .init(line: "location = 'a' 'b'", key: "location", fragment: "near token \"'b'\""),
        .init(line: "log_level=INFO,", key: "log_level", fragment: "near token \",\""),
    ]

    @Test("a malformed line is an error naming file, line and key", arguments: malformed)
    func malformedLine(_ c: Malformed) throws {
        let error = try #require(ConfigFixtures.failure("# line 5\n" + c.line + "\npriority=3\n"))
        #expect(error.errors.count == 1)
        let diagnostic = try #require(error.errors.first)
        #expect(diagnostic.file == ConfigFixtures.virtualFile)
        #expect(diagnostic.line == 6)
        #expect(diagnostic.key == c.key)
        #expect(diagnostic.message.contains(c.fragment), "\(diagnostic.message)")
        #expect(error.keelError.status == .badConfig)
    }

    @Test("an unknown key is a warning with its line; the file still loads")
    func unknownKey() throws {
        let config = try ConfigFixtures.parse("priority=5\nfrobnicate_level = 3\nfoo.bar = x\nPriority=9\n")
        #expect(config.priority == 5)
        #expect(config.warnings.map(\.key) == ["frobnicate_level", "foo.bar", "Priority"])
        #expect(config.warnings.map(\.line) == [6, 7, 8])
        let first = try #require(config.warnings.first)
        #expect(first.severity == .warning)
        #expect(first.message == "unknown name/value pair provided; ignoring")
        #expect(first.description
                == "\(ConfigFixtures.virtualFile):6: key \"frobnicate_level\": unknown name/value pair provided; ignoring")
    }

    @Test("deprecated keys are warnings naming the replacement; their values are ignored")
    func deprecatedKeys() throws {
        let config = try ConfigFixtures.parse("""
            node=7
            cluster=test
            loglevel=DEBUG
            master_reponse_timeout=30
            retry_promote_interval_secs=5
            upstream_node=2
            logfacility=LOCAL0
            logfile='/tmp/x.log'

            """)
        #expect(config.nodeID == 1)
        #expect(config.logLevel == "INFO")
        #expect(config.int("async_query_timeout") == 60)
        #expect(config.warnings.map(\.key) == ["node", "cluster", "loglevel", "master_reponse_timeout",
                                               "retry_promote_interval_secs", "upstream_node", "logfacility", "logfile"])
        #expect(config.warnings.map(\.line) == Array(5...12))
        #expect(config.warnings[0].message.contains("\"node_id\""))
        #expect(config.warnings[3].message.contains("\"async_query_timeout\""))
        #expect(config.warnings[4].message.contains("\"primary_notification_timeout\""))
        for old in ConfigSettings.deprecated {
            if let new = old.deprecatedReplacement { #expect(ConfigSettings.setting(named: new) != nil, "\(new)") }
        }
    }

    @Test("every problem is reported in one pass")
    func severalErrorsTogether() throws {
        let error = try #require(ConfigFixtures.failure("""
            use_replication_slots=maybe
            priority=-1
            failover=Automatic
            conninfo=host=a user=b
            unknown_thing=1
            reconnect_interval=abc

            """))
        #expect(error.errors.map(\.line) == [5, 6, 7, 8, 10])
        #expect(error.errors.map(\.key) == ["use_replication_slots", "priority", "failover", "conninfo", "reconnect_interval"])
        #expect(error.warnings.map(\.key) == ["unknown_thing"])
        let message = error.keelError.message
        #expect(message.hasPrefix("following errors were found in the configuration file:"))
        for diagnostic in error.errors { #expect(message.contains(diagnostic.description)) }
        #expect(error.keelError.detail?.contains("unknown_thing") == true)
        #expect(error.keelError.status == .badConfig)
        #expect(error.errors[1].description
                == "\(ConfigFixtures.virtualFile):6: key \"priority\": invalid value \"-1\": must be 0 or greater")
    }

    @Test("missing required keys are errors naming the key")
    func missingRequired() throws {
        let error = try #require(ConfigFixtures.failure("node_id=3\nconninfo='host=a'\n", withRequired: false))
        #expect(error.errors.map(\.key) == ["node_name", "data_directory"])
        #expect(error.errors.allSatisfy { $0.line == nil && $0.file == ConfigFixtures.virtualFile })
        #expect(error.errors.allSatisfy { $0.message == "required parameter was not found" })

        let empty = try #require(ConfigFixtures.failure("", withRequired: false))
        #expect(empty.errors.map(\.key) == ["node_id", "node_name", "conninfo", "data_directory"])

        let blank = try #require(ConfigFixtures.failure("node_name=''\n"))
        #expect(blank.errors.map(\.key) == ["node_name"])
        #expect(blank.errors.first?.line == 5)
    }

    @Test("bad values: type, minimum, enum, length",
          arguments: [
              ("node_id=0", "node_id", "must be 1 or greater"),
              ("node_id=abc", "node_id", "expected an integer"),
              ("node_id=''", "node_id", "expected an integer"),
              ("priority=99999999999", "priority", "32-bit"),
              ("monitor_interval_secs=0", "monitor_interval_secs", "must be 1 or greater"),
              ("degraded_monitoring_timeout=-2", "degraded_monitoring_timeout", "must be -1 or greater"),
              ("lua_hook_timeout=0", "lua_hook_timeout", "must be 1 or greater"),
              ("lua_memory_limit=0", "lua_memory_limit", "must be 1 or greater"),
              ("failover=auto", "failover", "must be \"automatic\" or \"manual\""),
              ("failover=MANUAL", "failover", "must be \"automatic\" or \"manual\""),
              ("connection_check_type=tcp", "connection_check_type", "must be one of \"ping\", \"connection\", \"query\""),
              ("log_level=verbose", "log_level", "must be one of \"DEBUG\""),
              ("log_facility=LOCAL9", "log_facility", "must be one of"),
              ("replication_type=logical", "replication_type", "must be \"physical\""),
              ("replication_type=Physical", "replication_type", "must be \"physical\""),
              ("monitoring_history=enabled", "monitoring_history", "expected a boolean"),
              ("recovery_min_apply_delay='5 min'", "recovery_min_apply_delay", "ms, s, min, h or d"),
              ("recovery_min_apply_delay=abc", "recovery_min_apply_delay", "ms, s, min, h or d"),
              ("tablespace_mapping='/a'", "tablespace_mapping", "OLDDIR=NEWDIR"),
              ("tablespace_mapping='/a=/b=/c'", "tablespace_mapping", "multiple \"=\""),
              ("node_name='\(String(repeating: "n", count: 64))'", "node_name", "at most 63"),
              ("node_name='nœud'", "node_name", "printable ASCII"),
          ])
    func badValue(_ line: String, _ key: String, _ fragment: String) throws {
        let error = try #require(ConfigFixtures.failure(line + "\n"))
        let diagnostic = try #require(error.errors.first { $0.key == key })
        #expect(diagnostic.line == 5)
        #expect(diagnostic.file == ConfigFixtures.virtualFile)
        #expect(diagnostic.message.contains(fragment), "\(diagnostic.message)")
    }

    @Test("good enum spellings",
          arguments: [
              ("connection_check_type=QUERY", "connection_check_type", "query"),
              ("connection_check_type='Connection'", "connection_check_type", "connection"),
              ("log_level=debug", "log_level", "DEBUG"),
              ("log_facility=local3", "log_facility", "LOCAL3"),
              ("failover=manual", "failover", "manual"),
              ("replication_type=physical", "replication_type", "physical"),
              ("recovery_min_apply_delay=5min", "recovery_min_apply_delay", "5min"),
              ("recovery_min_apply_delay='300'", "recovery_min_apply_delay", "300"),
          ])
    func goodEnum(_ line: String, _ key: String, _ expected: String) throws {
        let config = try ConfigFixtures.parse(line + "\n")
        #expect(config.string(key) == expected)
    }

    @Test("cross-key checks: warning < critical, reconnect >= rejoin, Barman pair",
          arguments: [
              ("archive_ready_warning=200", "archive_ready_warning", "\"archive_ready_critical\" must be greater"),
              ("archive_ready_warning=20\narchive_ready_critical=10", "archive_ready_critical", "must be greater"),
              ("replication_lag_critical=300", "replication_lag_critical", "\"replication_lag_critical\" must be greater"),
              ("replication_lag_warning=600\nreplication_lag_critical=600", "replication_lag_critical", "must be greater"),
              ("standby_reconnect_timeout=30", "standby_reconnect_timeout", "equal to or greater than \"node_rejoin_timeout\""),
              ("node_rejoin_timeout=90", "node_rejoin_timeout", "equal to or greater"),
              ("barman_host=backup1", "barman_host", "must be set together"),
              ("barman_server=main", "barman_server", "must be set together"),
          ])
    func crossKey(_ lines: String, _ key: String, _ fragment: String) throws {
        let error = try #require(ConfigFixtures.failure(lines + "\n"))
        #expect(error.errors.count == 1)
        let diagnostic = try #require(error.errors.first)
        #expect(diagnostic.key == key)
        #expect(diagnostic.line != nil)
        #expect(diagnostic.message.contains(fragment), "\(diagnostic.message)")
    }

    @Test("cross-key pairs that are fine")
    func crossKeyFine() throws {
        let config = try ConfigFixtures.parse("""
            archive_ready_warning=1
            archive_ready_critical=2
            replication_lag_warning=10
            replication_lag_critical=20
            standby_reconnect_timeout=60
            node_rejoin_timeout=60
            barman_host=backup1
            barman_server=main

            """)
        #expect(config.archiveReadyCritical == 2)
        #expect(config.replicationLagCritical == 20)
    }

    @Test("conninfo must be valid libpq syntax with known keywords",
          arguments: [
              ("conninfo='host=a port'", "missing \"=\" after \"port\""),
              ("conninfo='hots=a'", "invalid connection option \"hots\""),
              ("conninfo='host=a dbname=\\'x'", "unterminated quoted string"),
              ("conninfo='postgresql://u@h/db?sslmod=require'", "invalid URI query parameter"),
          ])
    func badConninfo(_ line: String, _ fragment: String) throws {
        let error = try #require(ConfigFixtures.failure(line + "\n"))
        let diagnostic = try #require(error.errors.first)
        #expect(error.errors.count == 1)
        #expect(diagnostic.key == "conninfo")
        #expect(diagnostic.line == 5)
        #expect(diagnostic.message.contains(fragment), "\(diagnostic.message)")
    }

    @Test("passwords never appear in diagnostics")
    func passwordMasked() throws {
        let secret = "s3cr3t-Pa55"
        let cases = [
            "conninfo='host=a password=\(secret) port'",
            "conninfo='host=a password = \\'\(secret) x\\' port'",
            "conninfo='postgresql://repmgr:\(secret)@db1/repmgr?sslmod=x'",
            "conninfo='host=a password=\(secret)' extra",
            "my_conninfo='host=a password=\(secret)'",
            "node_name='password=\(secret)\u{7}'",
        ]
        for line in cases {
            let text = ConfigFixtures.required + line + "\n"
            var all: [ConfigDiagnostic] = []
            do {
                all = try KeelConfig.parse(text: text, file: ConfigFixtures.virtualFile).warnings
            } catch {
                all = error.diagnostics
                #expect(!error.keelError.description.contains(secret), "\(line)")
                #expect(!error.description.contains(secret), "\(line)")
            }
            #expect(!all.isEmpty, "\(line)")
            for diagnostic in all {
                #expect(!diagnostic.description.contains(secret), "\(diagnostic)")
            }
        }
        let error = try #require(ConfigFixtures.failure("conninfo='host=a password=\(secret) port'\n"))
        // A conninfo holding a password is not quoted back at all: an unquoted space could split the
        // password into words that no mask recognises.
        #expect(error.errors.first?.message.contains("provided") == false)
        #expect(error.errors.first?.message.contains(secret) == false)
        let plain = try #require(ConfigFixtures.failure("conninfo='host=a port'\n"))
        #expect(plain.errors.first?.message.contains("(provided: \"host=a port\")") == true)
    }

    @Test("a readable-by-others file with a password in conninfo gets a warning")
    func worldReadablePassword() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        let body = ConfigFixtures.required.replacingOccurrences(
            of: "connect_timeout=2", with: "password=topsecret connect_timeout=2")
        let open = try dir.write("open.conf", body, mode: 0o644)
        let config = try KeelConfig.load(path: open)
        #expect(config.warnings.count == 1)
        let warning = try #require(config.warnings.first)
        #expect(warning.key == "conninfo")
        #expect(warning.line == 3)
        #expect(warning.file == open)
        #expect(warning.message.contains("readable by group or others (mode 644)"))
        #expect(!warning.description.contains("topsecret"))

        let closed = try dir.write("closed.conf", body, mode: 0o600)
        #expect(try KeelConfig.load(path: closed).warnings.isEmpty)
        let noPassword = try dir.write("nopass.conf", ConfigFixtures.required, mode: 0o644)
        #expect(try KeelConfig.load(path: noPassword).warnings.isEmpty)
    }
}

@Suite("repmgr.conf parser: includes")
struct ConfigIncludeTests {
    @Test("include, include_if_exists and include_dir, relative to the including file")
    func includes() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        let main = try dir.write("etc/keel.conf", ConfigFixtures.required + """
            priority=10
            include 'sub/a.conf'
            include_if_exists 'missing.conf'
            INCLUDE_DIR 'conf.d'
            location=main

            """)
        try dir.write("etc/sub/a.conf", "priority=50\nlocation=from_a\nevent_notifications='standby_promote'\n")
        try dir.write("etc/conf.d/02-second.conf", "reconnect_attempts=3\nevent_notifications=standby_follow\n")
        try dir.write("etc/conf.d/01-first.conf", "reconnect_attempts=2\nreconnect_interval=4\n")
        try dir.write("etc/conf.d/.hidden.conf", "reconnect_attempts=99\n")
        try dir.write("etc/conf.d/notes.txt", "this is not a config file\n")
        let config = try KeelConfig.load(path: main)
        #expect(config.warnings.isEmpty)
        #expect(config.priority == 50)
        #expect(config.location(of: "priority") == ConfigLocation(file: dir.path + "/etc/sub/a.conf", line: 1))
        #expect(config.reconnectAttempts == 3)
        #expect(config.reconnectInterval == 4)
        #expect(config.location(of: "reconnect_attempts")?.file == dir.path + "/etc/conf.d/02-second.conf")
        #expect(config.location == "main")
        #expect(config.eventNotifications == ["standby_promote", "standby_follow"])
    }

    @Test("a missing include is an error at the directive's line")
    func missingInclude() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        let main = try dir.write("keel.conf", ConfigFixtures.required + "include 'nowhere.conf'\n")
        let error = try #require(loadFailure(main))
        let diagnostic = try #require(error.errors.first)
        #expect(error.errors.count == 1)
        #expect(diagnostic.file == main)
        #expect(diagnostic.line == 5)
        #expect(diagnostic.key == "include")
        #expect(diagnostic.message.contains("\(dir.path)/nowhere.conf"))
        #expect(diagnostic.message.contains("No such file or directory"))

        let missingDir = try dir.write("dir.conf", ConfigFixtures.required + "include_dir 'nodir'\n")
        let dirError = try #require(loadFailure(missingDir))
        #expect(dirError.errors.first?.key == "include_dir")
        #expect(dirError.errors.first?.line == 5)
    }

    @Test("include recursion is an error, direct and indirect")
    func recursion() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        let selfIncluding = try dir.write("self.conf", ConfigFixtures.required + "include 'self.conf'\n")
        let direct = try #require(loadFailure(selfIncluding))
        #expect(direct.errors.count == 1)
        #expect(direct.errors.first?.message.contains("configuration file recursion") == true)
        #expect(direct.errors.first?.line == 5)

        let a = try dir.write("a.conf", ConfigFixtures.required + "include 'b.conf'\n")
        try dir.write("b.conf", "priority=1\ninclude 'a.conf'\n")
        let indirect = try #require(loadFailure(a))
        #expect(indirect.errors.count == 1)
        let diagnostic = try #require(indirect.errors.first)
        #expect(diagnostic.file == dir.path + "/b.conf")
        #expect(diagnostic.line == 2)
        #expect(diagnostic.key == "include")
        #expect(diagnostic.message.contains("recursion"))
    }

    @Test("nesting deeper than 10 levels is an error")
    func depth() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        for level in 1...11 {
            try dir.write("level\(level).conf", "include 'level\(level + 1).conf'\n")
        }
        try dir.write("level12.conf", "priority=12\n")
        let main = try dir.write("main.conf", ConfigFixtures.required + "include 'level1.conf'\n")
        let error = try #require(loadFailure(main))
        #expect(error.errors.count == 1)
        let diagnostic = try #require(error.errors.first)
        #expect(diagnostic.message.contains("maximum nesting depth exceeded"))
        #expect(diagnostic.file == dir.path + "/level10.conf")

        // ten levels are fine
        try dir.write("level10.conf", "priority=10\n")
        #expect(try KeelConfig.load(path: main).priority == 10)
    }

    @Test("errors inside included files name the included file")
    func errorInIncludedFile() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        let main = try dir.write("keel.conf", ConfigFixtures.required + "include 'part.conf'\nbogus=1\n")
        try dir.write("part.conf", "\n\npriority=high\n")
        let error = try #require(loadFailure(main))
        #expect(error.errors.map(\.file) == [dir.path + "/part.conf"])
        #expect(error.errors.map(\.line) == [3])
        #expect(error.warnings.map(\.file) == [main])
    }

    private func loadFailure(_ path: String) -> ConfigError? {
        do {
            _ = try KeelConfig.load(path: path)
            return nil
        } catch {
            return error
        }
    }
}

@Suite("repmgr.conf parser: values and API")
struct ConfigAPITests {
    @Test("a later duplicate wins; list keys append")
    func duplicates() throws {
        let config = try ConfigFixtures.parse("""
            priority=10
            priority=20
            event_notifications='standby_promote, standby_follow'
            event_notifications=' , repmgrd_failover_promote,,'
            tablespace_mapping='/old/ts1=/new/ts1'
            tablespace_mapping='/old/a\\\\=b=/new/ab'
            tablespace_mapping=''

            """)
        #expect(config.priority == 20)
        #expect(config.location(of: "priority")?.line == 6)
        #expect(config.eventNotifications == ["standby_promote", "standby_follow", "repmgrd_failover_promote"])
        #expect(config.list("tablespace_mapping") == ["/old/ts1=/new/ts1", "/old/a\\=b=/new/ab"])
        #expect(config.tablespaceMappings == [
            TablespaceMapping("/old/ts1=/new/ts1")!, TablespaceMapping("/old/a\\=b=/new/ab")!,
        ])
        #expect(config.tablespaceMappings[1].oldDirectory == "/old/a=b")
        #expect(config.tablespaceMappings[1].newDirectory == "/new/ab")
    }

    @Test("isSet, defaults, derived defaults and the replication user")
    func defaultsAndDerived() throws {
        let config = try ConfigFixtures.parse("standby_reconnect_timeout=90\n")
        #expect(config.isSet("node_id"))
        #expect(config.isSet("standby_reconnect_timeout"))
        #expect(!config.isSet("repmgrd_standby_startup_timeout"))
        #expect(config.repmgrdStandbyStartupTimeout == 90)
        #expect(config.replicationUser == "repmgr")
        #expect(config.location(of: "priority") == nil)

        let explicit = try ConfigFixtures.parse("replication_user=streamer\nrepmgrd_standby_startup_timeout=5\n")
        #expect(explicit.replicationUser == "streamer")
        #expect(explicit.repmgrdStandbyStartupTimeout == 5)
    }

    @Test("path settings are canonicalized")
    func paths() throws {
        let config = try ConfigFixtures.parse("""
            data_directory='/var/lib//postgresql/./15/main/'
            config_directory='/etc/postgresql/15/main/../main'
            pg_bindir='/usr/lib/postgresql/15/bin/'

            """)
        #expect(config.dataDirectory == "/var/lib/postgresql/15/main")
        #expect(config.configDirectory == "/etc/postgresql/15/main")
        #expect(config.pgBindir == "/usr/lib/postgresql/15/bin")
    }

    @Test("Keel's own keys")
    func keelKeys() throws {
        let config = try ConfigFixtures.parse("""
            http_listen='127.0.0.1:8008'
            lua_hook_timeout=2
            lua_memory_limit=16
            dcs='etcd:http://127.0.0.1:2379'

            """)
        #expect(config.httpListen == "127.0.0.1:8008")
        #expect(config.luaHookTimeout == 2)
        #expect(config.luaMemoryLimitMB == 16)
        #expect(config.dcs == "etcd:http://127.0.0.1:2379")
    }

    @Test("a bad http_listen is refused at load, naming the file, line and key")
    func badHTTPListen() throws {
        let error = try #require(ConfigFixtures.failure("http_listen='localhost:99999'\n", withRequired: false))
        let message = error.keelError.message
        #expect(message.contains("keel.conf:1: key \"http_listen\"") && message.contains("localhost:99999"), "\(message)")
    }

    @Test("load resolves a relative path and reports a missing file")
    func loadPaths() throws {
        let dir = try ConfigTempDirectory()
        defer { dir.remove() }
        try dir.write("keel.conf", ConfigFixtures.required)
        let previous = FileManager.default.currentDirectoryPath
        // no chdir (tests run in parallel): build a relative path from the current directory instead
        let relative = String(repeating: "../", count: previous.split(separator: "/").count) + dir.path.dropFirst()
        let config = try KeelConfig.load(path: relative + "/keel.conf")
        #expect(config.path == dir.path + "/keel.conf")

        do {
            _ = try KeelConfig.load(path: dir.path + "/absent.conf")
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.file == dir.path + "/absent.conf")
            #expect(error.errors.first?.line == nil)
            #expect(error.errors.first?.message.contains("could not open configuration file") == true)
        }
    }

    @Test("default search order: ./keel.conf, /etc/keel.conf, ./repmgr.conf, /etc/repmgr.conf")
    func defaultPath() {
        let all: Set<String> = ["/home/pg/keel.conf", "/etc/keel.conf", "/home/pg/repmgr.conf", "/etc/repmgr.conf"]
        func search(_ present: Set<String>) -> String? {
            KeelConfig.defaultPath(currentDirectory: "/home/pg", exists: { present.contains($0) })
        }
        #expect(search(all) == "/home/pg/keel.conf")
        #expect(search(all.subtracting(["/home/pg/keel.conf"])) == "/etc/keel.conf")
        #expect(search(["/home/pg/repmgr.conf", "/etc/repmgr.conf"]) == "/home/pg/repmgr.conf")
        #expect(search(["/etc/repmgr.conf"]) == "/etc/repmgr.conf")
        #expect(search([]) == nil)
        #expect(KeelConfig.defaultPath(currentDirectory: "/", exists: { $0 == "/keel.conf" }) == "/keel.conf")
    }
}
