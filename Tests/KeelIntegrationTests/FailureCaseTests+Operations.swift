import Foundation
import Testing
import KeelTesting

/// Failure cases of the operations, taken from repmgr bug reports, on real PostgreSQL (15, or 18 in the second pass of scripts/test): a replication
/// user with its own password in a password file (clone), `standby follow` whose restart does not start
/// the server, `standby clone --force` over a mapped tablespace directory, `node rejoin --force-rewind` of a
/// crashed node whose postgresql.conf lives outside the data directory, and `standby follow` away from an
/// old upstream that is down (its slot stays there: say so and how to drop it), then the rejoin of that
/// crashed node keeping its own postgresql.conf (`--config-files`, `--config-archive-dir`); and repmgr's
/// other options of these commands (`--copy-external-config-files`, `--verify-backup`,
/// `--replication-conf-only`, `--recovery-min-apply-delay`, `--wait-sync`, `register -F` of a stopped
/// standby, switchover's `--force-rewind=PATH`, `--repmgrd-no-pause`, `-S`).
@Suite("failure cases: clone, follow and rejoin on real PostgreSQL", .serialized)
struct OperationFailureCaseTests {
    static let pgCtl = "service_start_command=''\nservice_stop_command=''\nservice_restart_command=''\nservice_reload_command=''"
    static let replicationQuery = "SELECT string_agg(application_name || ':' || state || ':' || usename, ',' ORDER BY application_name) FROM pg_stat_replication"

    /// An event script appending `%n|%e|%s` to `<workspace>/ev.log`; returns the configuration line.
    static func eventScript(_ ws: TestWorkspace) throws -> String {
        let script = try ws.writeFile("ev.sh", "#!/bin/sh\necho \"$1|$2|$3\" >> \(ws.path)/ev.log\n", mode: 0o755)
        return "event_notification_command='\(script) %n %e %s'"
    }

    @Test("a replication user with its own password in passfile: the clone's replication connections use it, primary_conninfo names the user and the file, no password")
    func replicationUserWithPassfile() throws {
        let f = try ClusterFixture("passfile")
        let ws = f.workspace
        let node1 = try ws.startPrimary(name: "node1")
        _ = try node1.psql("ALTER USER repmgr PASSWORD 'metaA-7q1'; CREATE USER repl REPLICATION PASSWORD 'replB-4z9'")
        let passfile = try ws.writeFile("pgpass", "127.0.0.1:*:repmgr:repmgr:metaA-7q1\n127.0.0.1:*:replication:repl:replB-4z9\n")
        // Passwords for every replication connection (the harness's own psql connects to the database as repmgr).
        try ws.writeFile("hba.conf", "local all all trust\nhost replication all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n")
        _ = try ws.run("cp", [ws.path + "/hba.conf", node1.dataDirectory + "/pg_hba.conf"]).requireSuccess()
        try node1.appendConfiguration("log_connections = on")
        try node1.stop()
        try node1.start()
        let extra = "replication_user='repl'\npassfile='\(passfile)'"
        try f.writeConfig(id: 1, name: "node1", port: node1.port, dataDirectory: node1.dataDirectory, extra: extra)
        let env = ["PGPASSFILE": passfile]
        #expect(try ws.run("keel", ["-f", f.config("node1"), "primary", "register"], environment: env).succeeded)

        let port = try ws.freePort()
        try f.writeConfig(id: 2, name: "node2", port: port, dataDirectory: ws.dataDirectoryPath(name: "node2"), extra: extra)
        let clone = try ws.run("keel", ["-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(node1.port)", "-U", "repmgr",
                                        "-d", "repmgr", "--fast-checkpoint"], environment: env, timeout: 180)
        #expect(clone.succeeded, "\(clone)")
        #expect(clone.stderr.contains("replication connection to the source node as user \"repl\" is possible"))
        let node2 = try f.startClone(name: "node2", port: port)
        #expect(try ws.run("keel", ["-f", f.config("node2"), "standby", "register"], environment: env).succeeded)
        try waitFor("node2 streaming from node1 as repl") { try node1.psql(Self.replicationQuery) == "node2:streaming:repl" }
        let conninfo = try node2.psql("SHOW primary_conninfo")
        #expect(conninfo.contains("user=repl") && conninfo.contains("passfile=") && !conninfo.contains("password="), "\(conninfo)")
        let log = node1.log()
        #expect(!log.contains("authentication failed") && !log.contains("no password supplied"))
        #expect(!log.contains("replication connection authorized: user=repmgr"))
    }

    @Test("standby follow with standby_follow_restart and a start command that starts nothing: exit 23, never \"successful\", a failed standby_follow event and notification")
    func followRestartThatDoesNotStart() throws {
        let c = try FailoverCluster("follow-restart", standbys: 1, witness: false, common: Self.pgCtl)
        let f = c.f
        let events = try Self.eventScript(f.workspace)
        let node2 = c.server("node2")
        try f.writeConfig(id: 2, name: "node2", port: node2.port, dataDirectory: node2.dataDirectory,
                          extra: "\(Self.pgCtl)\n\(events)\nservice_start_command='/bin/true'\nservice_restart_command=''\nstandby_follow_restart=true\nstandby_follow_timeout=5")

        let dry = try f.keel("-f", f.config("node2"), "standby", "follow", "--upstream-node-id", "1", "--dry-run")
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("would restart the server with:") && dry.stderr.contains("/bin/true"), "\(dry)")
        #expect(node2.isRunning)

        let follow = try f.keel("-f", f.config("node2"), "standby", "follow", "--upstream-node-id", "1")
        #expect(follow.status == 23, "\(follow)")
        #expect(!follow.stderr.contains("STANDBY FOLLOW successful"))
        #expect(follow.stderr.contains("the local PostgreSQL server is not running"))
        #expect(!node2.isRunning)
        #expect(c.query("node1", "SELECT successful FROM repmgr.events WHERE node_id = 2 AND event = 'standby_follow'") == "f")
        let notified = (try? String(contentsOfFile: f.workspace.path + "/ev.log", encoding: .utf8)) ?? ""
        #expect(notified.contains("2|standby_follow|0"))
        #expect(!notified.contains("|standby_follow|1"))
    }

    @Test("standby clone over an old data directory and a non-empty mapped tablespace directory: refused naming both, nothing touched; --force replaces both and the tablespace's rows are there")
    func cloneForceOverTablespace() throws {
        let f = try ClusterFixture("clone-tablespace")
        let ws = f.workspace
        let node1 = try ws.startPrimary(name: "node1")
        try f.writeConfig(id: 1, name: "node1", port: node1.port, dataDirectory: node1.dataDirectory)
        try f.keel("-f", f.config("node1"), "primary", "register").requireSuccess()
        let ts1 = ws.path + "/ts1", ts2 = ws.path + "/ts2"
        _ = try ws.run("mkdir", ["-p", ts1]).requireSuccess()
        _ = try node1.psql("CREATE TABLESPACE ts LOCATION '\(ts1)'")
        _ = try node1.psql("CREATE TABLE t_ts (id int) TABLESPACE ts; INSERT INTO t_ts SELECT generate_series(1, 100)")
        let versionDirectory = try #require(try FileManager.default.contentsOfDirectory(atPath: ts1).first { $0.hasPrefix("PG_\(TestPostgres.majorVersion ?? 15)_") })
        try ws.writeFile("ts2/\(versionDirectory)/junk", "junk\n")
        let data2 = ws.dataDirectoryPath(name: "node2")
        _ = try ws.run("initdb", ["-D", data2, "-U", "repmgr", "--auth=trust", "--no-sync"], timeout: 180).requireSuccess()
        _ = try ws.run("touch", [data2 + "/OLD_MARKER"]).requireSuccess()
        let port = try ws.freePort()
        try f.writeConfig(id: 2, name: "node2", port: port, dataDirectory: data2, extra: "tablespace_mapping='\(ts1)=\(ts2)'")
        let cloneArgs = ["-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(node1.port)", "-c"]

        let refused = try ws.run("keel", cloneArgs)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains(data2) && refused.stderr.contains(ts2), "\(refused)")
        #expect(FileManager.default.fileExists(atPath: data2 + "/OLD_MARKER"))
        #expect(FileManager.default.fileExists(atPath: "\(ts2)/\(versionDirectory)/junk"))

        let dry = try ws.run("keel", cloneArgs + ["--force", "--dry-run"])
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("would remove the contents of \"\(data2)\", \"\(ts2)\""), "\(dry)")
        #expect(dry.stderr.contains("--tablespace-mapping=\(ts1)=\(ts2)"))
        #expect(FileManager.default.fileExists(atPath: data2 + "/OLD_MARKER"))

        let forced = try ws.run("keel", cloneArgs + ["--force", "--verify-backup"], timeout: 180)
        #expect(forced.succeeded, "\(forced)")
        #expect(forced.stderr.contains("backup verified with pg_verifybackup"))
        #expect(!FileManager.default.fileExists(atPath: "\(ts2)/\(versionDirectory)/junk"))
        #expect(!FileManager.default.fileExists(atPath: data2 + "/OLD_MARKER"))
        let node2 = try f.startClone(name: "node2", port: port)
        try f.keel("-f", f.config("node2"), "standby", "register").requireSuccess()
        #expect(try node2.psql("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts'") == ts2)
        #expect(try node2.psql("SELECT count(*) FROM t_ts") == "100")
    }

    @Test("node rejoin --force-rewind of a crashed node whose postgresql.conf lives outside the data directory: the plan and pg_rewind get --config-file, crash recovery keeps the WAL pg_rewind needs")
    func rejoinWithExternalConfiguration() throws {
        let f = try ClusterFixture("rejoin-external")
        let ws = f.workspace
        let node1 = try ws.startPrimary(name: "node1")
        let conf1 = ws.path + "/conf1", log1 = node1.logFile
        let pgCtl1 = "\(ws.postgresBinDirectory)/pg_ctl -D \(conf1) -l \(log1)"
        let services = "config_directory='\(conf1)'\nservice_start_command='\(pgCtl1) -w start'\nservice_stop_command='\(pgCtl1) -m fast -w stop'\nservice_restart_command=''\nservice_reload_command=''"
        try f.writeConfig(id: 1, name: "node1", port: node1.port, dataDirectory: node1.dataDirectory, extra: services)
        try f.keel("-f", f.config("node1"), "primary", "register").requireSuccess()
        let port = try ws.freePort()
        try f.writeConfig(id: 2, name: "node2", port: port, dataDirectory: ws.dataDirectoryPath(name: "node2"), extra: Self.pgCtl)
        try f.keel("-f", f.config("node2"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(node1.port)", "-c").requireSuccess()
        let node2 = try f.startClone(name: "node2", port: port)
        try f.keel("-f", f.config("node2"), "standby", "register").requireSuccess()

        // node1 moves its configuration out of the data directory (no WAL kept beyond what it needs).
        try node1.stop()
        _ = try ws.run("mkdir", ["-p", conf1]).requireSuccess()
        for file in ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"] {
            _ = try ws.run("mv", [node1.dataDirectory + "/" + file, conf1 + "/" + file]).requireSuccess()
        }
        try ws.writeFile("conf1-extra", "wal_keep_size = 0\ndata_directory = '\(node1.dataDirectory)'\nhba_file = '\(conf1)/pg_hba.conf'\nident_file = '\(conf1)/pg_ident.conf'\n")
        _ = try ws.run("sh", ["-c", "cat \(ws.path)/conf1-extra >> \(conf1)/postgresql.conf"]).requireSuccess()
        _ = try ws.run("sh", ["-c", "\(pgCtl1) -w start"]).requireSuccess()
        try waitFor("node2 streaming from node1") { try node1.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1" }
        _ = try node1.psql("CREATE TABLE rewound_rows AS SELECT generate_series(1, 1000) AS id")

        // A clone copies those files too with --copy-external-config-files (read over the connection).
        let data3 = ws.dataDirectoryPath(name: "node3")
        try f.writeConfig(id: 3, name: "node3", port: try ws.freePort(), dataDirectory: data3, extra: Self.pgCtl)
        let copy = try f.keel("-f", f.config("node3"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(node1.port)", "-c",
                              "--copy-external-config-files=pgdata")
        #expect(copy.succeeded, "\(copy)")
        #expect(copy.stderr.contains("copied config_file \"\(conf1)/postgresql.conf\" to \"\(data3)/postgresql.conf\""), "\(copy)")
        #expect(((try? String(contentsOfFile: data3 + "/postgresql.conf", encoding: .utf8)) ?? "").contains("wal_keep_size = 0"))

        try node1.kill()
        try f.keel("-f", f.config("node2"), "standby", "promote").requireSuccess()
        _ = try node2.psql("INSERT INTO rewound_rows SELECT generate_series(1001, 2000); CHECKPOINT")
        let archive = ws.path + "/config-archive"
        let rejoin = ["-f", f.config("node1"), "node", "rejoin", "-d", node2.conninfo(), "--force-rewind", "--config-archive-dir=\(archive)"]
        let control = { (try? Data(contentsOf: URL(fileURLWithPath: node1.dataDirectory + "/global/pg_control"))) ?? Data() }
        let before = control()
        let dry = try ws.run("keel", rejoin + ["--dry-run"])
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("--config-file=\(conf1)/postgresql.conf"), "\(dry)")
        #expect(dry.stderr.contains("would complete crash recovery first with:"))
        #expect(control() == before && !node1.isRunning)

        let done = try ws.run("keel", rejoin, timeout: 300)
        #expect(done.succeeded, "\(done)")
        try waitFor("node1 streaming from node2") { try node2.psql("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node1' AND state = 'streaming'") == "1" }
        try waitFor("node1 has node2's rows") { (try? node1.psql("SELECT count(*) FROM rewound_rows")) == "2000" }
    }

    @Test("standby follow away from an old upstream that is down: success with a warning and a hint naming the slot left there; the crashed old primary rejoins keeping its postgresql.conf")
    func followWithOldUpstreamDown() throws {
        let c = try FailoverCluster("follow-down", standbys: 2, witness: false, common: Self.pgCtl)
        let f = c.f
        _ = try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try TopologyTests.waitCaughtUp(c, "node1", ["node2", "node3"])
        try c.server("node1").kill()
        try f.keel("-f", f.config("node2"), "standby", "promote").requireSuccess()

        let follow = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2")
        #expect(follow.succeeded, "\(follow)")
        #expect(follow.stderr.contains("WARNING: unable to connect to former upstream node \"node1\" (ID: 1): replication slot \"repmgr_slot_3\" was not dropped there"), "\(follow)")
        #expect(follow.stderr.contains("HINT: when that node is running again, drop the slot there with: SELECT pg_catalog.pg_drop_replication_slot('repmgr_slot_3')"))
        try c.waitForStreaming("node3", from: "node2")
        #expect(c.query("node2", "SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "t")

        // The crashed node1 rejoins with pg_rewind; its own postgresql.conf (its port) survives the rewind.
        _ = try c.server("node2").psql("CHECKPOINT")
        let archive = f.workspace.path + "/config-archive"
        let rejoin = try f.keel("-f", f.config("node1"), "node", "rejoin", "-d", c.server("node2").conninfo(), "--force-rewind",
                                "--config-files=postgresql.conf", "--config-archive-dir=\(archive)")
        #expect(rejoin.succeeded, "\(rejoin)")
        try c.waitForStreaming("node1", from: "node2")
        #expect(try c.server("node1").psql("SHOW port") == "\(c.server("node1").port)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: archive)) == [], "the kept copies are removed afterwards")
    }

    @Test("repmgr's options of the operations: switchover --force-rewind=PATH, --repmgrd-no-pause, -S; register --wait-sync and -F of a stopped standby; clone --replication-conf-only with --recovery-min-apply-delay")
    func repmgrOptions() throws {
        let c = try FailoverCluster("options", standbys: 2, witness: false, common: Self.pgCtl)
        let f = c.f
        let rewind = f.workspace.postgresBinDirectory + "/pg_rewind"
        let dry = try f.keel("-f", f.config("node2"), "standby", "switchover", "--siblings-follow", "--force-rewind=\(rewind)",
                             "--repmgrd-no-pause", "-S", "postgres", "--dry-run")
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("keeld will not be paused (--repmgrd-no-pause)"))
        #expect(dry.stderr.contains("--force-rewind=\(rewind)"), "\(dry)")
        #expect(dry.stderr.contains("would make sibling node \"node3\" (ID: 3) follow with:"))
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))
        let both = try f.keel("-f", f.config("node2"), "standby", "switchover", "--repmgrd-no-pause", "--repmgrd-force-unpause")
        #expect(both.status == 1 && both.stderr.contains("cannot be used together"), "\(both)")

        let sync = try f.keel("-f", f.config("node3"), "standby", "register", "--force", "--wait-sync=20")
        #expect(sync.succeeded, "\(sync)")
        #expect(c.query("node1", "SELECT successful FROM repmgr.events WHERE event = 'standby_register_sync' AND node_id = 3") == "t")

        // node3 stopped: re-registered from its configuration with -F, then its replication configuration rewritten.
        try c.server("node3").stop()
        let stopped = try f.keel("-f", f.config("node3"), "standby", "register", "-F", "-h", "127.0.0.1", "-p", "\(c.server("node1").port)")
        #expect(stopped.succeeded, "\(stopped)")
        #expect(stopped.stderr.contains("is not running: registering it from its configuration"))
        let badValue = try f.keel("-f", f.config("node3"), "standby", "clone", "-h", "127.0.0.1", "--copy-external-config-files=elsewhere")
        #expect(badValue.status == 1, "\(badValue)")
        let confOnly = try f.keel("-f", f.config("node3"), "standby", "clone", "-h", "127.0.0.1", "-p", "\(c.server("node1").port)",
                                  "--replication-conf-only", "--recovery-min-apply-delay=5min")
        #expect(confOnly.succeeded, "\(confOnly)")
        let auto = (try? String(contentsOfFile: c.server("node3").dataDirectory + "/postgresql.auto.conf", encoding: .utf8)) ?? ""
        #expect(auto.contains("recovery_min_apply_delay = '5min'"), "\(auto)")
        try c.server("node3").start()
        try c.waitForStreaming("node3", from: "node1")
    }
}
