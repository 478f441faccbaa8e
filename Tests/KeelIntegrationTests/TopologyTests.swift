import Foundation
import Testing
import KeelTesting

/// Planned topology changes on real PostgreSQL (15, or 18 in the second pass of scripts/test): `standby switchover` and back with keeld
/// running, its refusals, a forced divergence repaired by `node rejoin --force-rewind`, `standby promote
/// --siblings-follow`, cascading `standby follow`, `node service` and `cluster matrix|crosscheck`. The remote
/// actions run `keel` as a local child process (every node is on 127.0.0.1). Clusters are built with keel
/// (`FailoverCluster`: node1 primary, node2 and node3 standbys, a witness); the guide's `service_*_command`
/// lines are cleared so that pg_ctl is used.
@Suite("switchover, rejoin, siblings follow, node service and cluster matrix on real PostgreSQL", .serialized)
struct TopologyTests {
    static let pgCtl = "service_start_command=''\nservice_stop_command=''\nservice_restart_command=''\nservice_reload_command=''"
    static let nodesQuery = "SELECT node_id || ':' || type || ':' || coalesce(upstream_node_id::text, '-') || ':' || active FROM repmgr.nodes ORDER BY node_id"
    static let replicationQuery = "SELECT string_agg(application_name || ':' || state, ',' ORDER BY application_name) FROM pg_stat_replication"

    /// Waits until every one of `standbys` has replayed what `primary` has written so far.
    static func waitCaughtUp(_ c: FailoverCluster, _ primary: String, _ standbys: [String]) throws {
        let lsn = try c.server(primary).psql("SELECT pg_current_wal_lsn()")
        for standby in standbys {
            try waitFor("\(standby) replayed up to \(lsn)", timeout: 60) {
                c.query(standby, "SELECT pg_last_wal_replay_lsn() >= '\(lsn)'::pg_lsn") == "t"
            }
        }
    }

    @Test("switchover and switch back with keeld running: no row lost, every node streams from the new primary, keeld paused then unpaused; --dry-run changes nothing")
    func switchoverAndBack() throws {
        let c = try FailoverCluster("switchover", standbys: 2, witness: true, common: Self.pgCtl)
        let f = c.f
        try c.startDaemons()
        _ = try c.server("node1").psql("CREATE TABLE sw (id int PRIMARY KEY, written_on text); INSERT INTO sw VALUES (1, 'node1')")
        try Self.waitCaughtUp(c, "node1", ["node2", "node3"])

        // --dry-run: every check runs (also keel on node1's side), nothing changes.
        let before = (c.query("node1", Self.nodesQuery), c.query("node1", Self.replicationQuery),
                      c.query("node1", "SELECT count(*) FROM repmgr.events"), c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE paused"))
        let dry = try f.keel("-f", f.config("node2"), "standby", "switchover", "--siblings-follow", "--dry-run")
        #expect(dry.succeeded, "\(dry)")
        for line in ["prerequisites for executing STANDBY SWITCHOVER are met", "would pause keeld", "would stop node \"node1\" (ID: 1) with:",
                     "node service --action=stop --checkpoint", "pg_ctl", "would promote", "would rejoin node \"node1\" (ID: 1) with:",
                     "would make sibling node \"node3\" (ID: 3) follow", "would make sibling node \"witness\" (ID: 99) follow"] {
            #expect(dry.stderr.contains(line), "missing: \(line)")
        }
        let after = (c.query("node1", Self.nodesQuery), c.query("node1", Self.replicationQuery),
                     c.query("node1", "SELECT count(*) FROM repmgr.events"), c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE paused"))
        #expect(after == before)
        #expect(before.1 == "node2:streaming,node3:streaming")
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))

        // The switchover: node2 becomes the primary, node1 its standby, node3 and the witness follow.
        let sw = try f.keel("-f", f.config("node2"), "standby", "switchover", "--siblings-follow")
        #expect(sw.succeeded, "\(sw)")
        #expect(sw.stderr.contains("keeld paused on node(s) 1, 2, 3, 99"))
        #expect(sw.stderr.contains("current primary has been cleanly shut down at location"))
        #expect(sw.stderr.contains("has received the shutdown checkpoint"))
        #expect(sw.stderr.contains("STANDBY SWITCHOVER has completed successfully"))
        #expect(c.isPrimary("node2") && !c.isPrimary("node1") && !c.isPrimary("node3"))
        try c.waitForStreaming("node1", from: "node2")
        try c.waitForStreaming("node3", from: "node2")
        #expect(c.query("node2", Self.replicationQuery) == "node1:streaming,node3:streaming")
        for node in ["node1", "node2", "node3"] {
            try waitFor("row 1 on \(node)") { c.query(node, "SELECT written_on FROM sw WHERE id = 1") == "node1" }
        }
        #expect(c.query("node2", Self.nodesQuery) == "1:standby:2:true\n2:primary:-:true\n3:standby:2:true\n99:witness:2:true")
        #expect(c.query("node2", "SELECT node_id || ':' || successful || ':' || details FROM repmgr.events WHERE event = 'standby_switchover'")
            == "2:true:node \"node2\" (ID: 2) promoted to primary, node \"node1\" (ID: 1) demoted to standby")
        #expect(c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'node_rejoin' AND node_id = 1 AND successful") == "1")
        #expect(c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'repmgrd_failover_promote'") == "0")
        // The witness re-registered with the new primary: its copy names node2.
        #expect(c.query("witness", "SELECT node_id FROM repmgr.nodes WHERE type = 'primary' AND active") == "2")
        // Slots: node1 and node3 have theirs on node2; node1 kept none for node2 or node3.
        #expect(c.query("node2", "SELECT string_agg(slot_name || ':' || active, ',' ORDER BY slot_name) FROM pg_replication_slots")
            == "repmgr_slot_1:true,repmgr_slot_3:true")
        try waitFor("node1's old slots dropped") { c.query("node1", "SELECT count(*) FROM pg_replication_slots") == "0" }
        // keeld unpaused everywhere, and no daemon promoted anything.
        #expect(c.query("node2", "SELECT count(*) FROM repmgr.keel_daemon WHERE paused") == "0")

        // Switch back, after a write on node2.
        _ = try c.server("node2").psql("INSERT INTO sw VALUES (2, 'node2')")
        try Self.waitCaughtUp(c, "node2", ["node1", "node3"])
        let back = try f.keel("-f", f.config("node1"), "standby", "switchover", "--siblings-follow")
        #expect(back.succeeded, "\(back)")
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))
        try c.waitForStreaming("node2", from: "node1")
        try c.waitForStreaming("node3", from: "node1")
        _ = try c.server("node1").psql("INSERT INTO sw VALUES (3, 'node1')")
        for node in ["node1", "node2", "node3"] {
            try waitFor("rows 1-3 on \(node)") { c.query(node, "SELECT string_agg(id::text, ',' ORDER BY id) FROM sw") == "1,2,3" }
        }
        #expect(c.query("node1", Self.nodesQuery) == "1:primary:-:true\n2:standby:1:true\n3:standby:1:true\n99:witness:1:true")
        #expect(c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event = 'standby_switchover' AND successful") == "2")
        #expect(c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE paused") == "0")
        #expect(c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event IN ('repmgrd_failover_promote', 'repmgrd_failover_follow')") == "0")
        let show = try f.keel("-f", f.config("node3"), "cluster", "show", "--csv")
        #expect(show.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1,0,0\n2,0,1\n3,0,1\n99,0,0")
    }

    @Test("switchover refused, nothing changed: keel cannot run on the primary's side, the standby lags beyond replication_lag_critical, the primary is down")
    func switchoverRefused() throws {
        let c = try FailoverCluster("refused", standbys: 2, witness: false,
                                    extra: ["node2": "replication_lag_warning=1\nreplication_lag_critical=2"], common: Self.pgCtl)
        let f = c.f
        let nodes = c.query("node1", Self.nodesQuery)

        // The primary's config_file does not exist: keel cannot run for it.
        let realConfig = c.query("node1", "SELECT config_file FROM repmgr.nodes WHERE node_id = 1")
        _ = try c.server("node1").psql("UPDATE repmgr.nodes SET config_file = '/nonexistent/node1.conf' WHERE node_id = 1")
        try Self.waitCaughtUp(c, "node1", ["node2"])
        let noKeel = try f.keel("-f", f.config("node2"), "standby", "switchover")
        #expect(noKeel.status == 18, "\(noKeel)")
        #expect(noKeel.stderr.contains("unable to run keel for node \"node1\" (ID: 1)"))
        _ = try c.server("node1").psql("UPDATE repmgr.nodes SET config_file = '\(realConfig)' WHERE node_id = 1")

        // node2 receives but does not replay: its lag grows past replication_lag_critical (2 s).
        _ = try c.server("node2").psql("ALTER SYSTEM SET recovery_min_apply_delay = '1h'")
        _ = try c.server("node2").psql("SELECT pg_reload_conf()")
        _ = try c.server("node1").psql("CREATE TABLE lag (id int); INSERT INTO lag VALUES (1)")
        try waitFor("node2 lagging beyond 2 seconds", timeout: 60) {
            try f.keel("-f", f.config("node2"), "node", "check", "--replication-lag").status == 2
        }
        let lagging = try f.keel("-f", f.config("node2"), "standby", "switchover")
        #expect(lagging.status == 18, "\(lagging)")
        #expect(lagging.stderr.contains("STANDBY SWITCHOVER refused: replication lag on this standby is"))
        #expect(lagging.stderr.contains("replication_lag_critical"))
        #expect(lagging.stderr.contains("-F/--force"))
        #expect(c.isPrimary("node1") && !c.isPrimary("node2"))
        #expect(c.query("node1", Self.nodesQuery) == nodes)
        #expect(c.query("node1", Self.replicationQuery) == "node2:streaming,node3:streaming")
        _ = try c.server("node2").psql("ALTER SYSTEM RESET recovery_min_apply_delay")
        _ = try c.server("node2").psql("SELECT pg_reload_conf()")

        // The primary is down: refused with a clear error, the standbys untouched.
        try c.server("node1").stop(mode: "fast")
        let down = try f.keel("-f", f.config("node3"), "standby", "switchover")
        #expect(down.status == 18, "\(down)")
        #expect(down.stderr.contains("unable to connect to the current primary"))
        #expect(down.stderr.contains("keel standby promote"))
        #expect(!c.isPrimary("node2") && !c.isPrimary("node3"))
        #expect(c.query("node3", "SELECT count(*) FROM repmgr.events WHERE event = 'standby_switchover'") == "0")
    }

    @Test("forced divergence: follow of a standby past the fork point is refused; node rejoin refuses without --force-rewind and rewinds with it")
    func divergenceAndRejoin() throws {
        let c = try FailoverCluster("rejoin", standbys: 2, witness: false, common: Self.pgCtl)
        let f = c.f
        _ = try c.server("node1").psql("CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)")
        try Self.waitCaughtUp(c, "node1", ["node2", "node3"])
        try c.server("node1").stop(mode: "fast")
        let promote = try f.keel("-f", f.config("node2"), "standby", "promote")
        #expect(promote.succeeded, "\(promote)")
        _ = try c.server("node2").psql("INSERT INTO kept VALUES (2)")

        // The old primary comes back and keeps writing on timeline 1; node3 still streams from it.
        try c.server("node1").start()
        _ = try c.server("node1").psql("CREATE TABLE split_brain (id int); INSERT INTO split_brain VALUES (1)")
        try waitFor("node3 replays the old primary's new WAL", timeout: 60) { c.query("node3", "SELECT count(*) FROM split_brain") == "1" }

        // node3 is past node2's fork point: it cannot follow node2.
        let follow = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2")
        #expect(follow.status == 23, "\(follow)")
        #expect(follow.stderr.contains("forked off"))
        #expect(follow.stderr.contains("keel node rejoin --force-rewind"))

        // node rejoin needs a stopped server.
        let running = try f.keel("-f", f.config("node1"), "node", "rejoin", "-d", c.server("node2").conninfo())
        #expect(running.status == 1, "\(running)")
        #expect(running.stderr.contains("PostgreSQL is running"))

        try c.server("node1").stop(mode: "fast")
        let nodesBefore = c.query("node2", Self.nodesQuery)
        let refused = try f.keel("-f", f.config("node1"), "node", "rejoin", "-d", c.server("node2").conninfo())
        #expect(refused.status == 24, "\(refused)")
        #expect(refused.stderr.contains("cannot attach to node \"node2\" (ID: 2): its timeline has diverged"))
        #expect(refused.stderr.contains("--force-rewind"))
        #expect(!c.server("node1").isRunning)
        #expect(c.query("node2", Self.nodesQuery) == nodesBefore)

        let dry = try f.keel("-f", f.config("node1"), "node", "rejoin", "-d", c.server("node2").conninfo(), "--force-rewind",
                             "--config-files", "postgresql.conf", "--dry-run")
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("would execute:") && dry.stderr.contains("pg_rewind"))
        #expect(!c.server("node1").isRunning)

        let rewound = try f.keel("-f", f.config("node1"), "node", "rejoin", "-d", c.server("node2").conninfo(), "--force-rewind",
                                 "--config-files", "postgresql.conf")
        #expect(rewound.succeeded, "\(rewound)")
        #expect(rewound.stderr.contains("pg_rewind complete"))
        #expect(rewound.stderr.contains("NODE REJOIN successful"))
        try c.waitForStreaming("node1", from: "node2")
        #expect(c.query("node1", "SELECT string_agg(id::text, ',' ORDER BY id) FROM kept") == "1,2")
        #expect(c.query("node1", "SELECT to_regclass('split_brain') IS NULL") == "t")
        #expect(c.query("node2", "SELECT node_id || ':' || type || ':' || upstream_node_id || ':' || active FROM repmgr.nodes WHERE node_id = 1")
            == "1:standby:2:true")
        #expect(c.query("node2", "SELECT details FROM repmgr.events WHERE event = 'node_rejoin' AND node_id = 1")
            == "node \"node1\" (ID: 1) is now attached to node \"node2\" (ID: 2) (rewound with pg_rewind)")

        // The diverged standby is rewound the same way.
        try c.server("node3").stop(mode: "fast")
        let standby = try f.keel("-f", f.config("node3"), "node", "rejoin", "-d", c.server("node1").conninfo(), "--force-rewind",
                                 "--config-files=postgresql.conf")
        #expect(standby.succeeded, "\(standby)")
        try c.waitForStreaming("node3", from: "node2")
        _ = try c.server("node2").psql("INSERT INTO kept VALUES (3)")
        for node in ["node1", "node3"] {
            try waitFor("row 3 on \(node)") { c.query(node, "SELECT count(*) FROM kept") == "3" }
        }
        #expect(c.query("node3", "SELECT to_regclass('split_brain') IS NULL") == "t")
    }

    @Test("follow with an explicit --upstream-node-id (cascading); promote --siblings-follow moves the other standby and the witness")
    func promoteSiblingsFollow() throws {
        let c = try FailoverCluster("siblings", standbys: 2, witness: true, common: Self.pgCtl)
        let f = c.f
        let cascade = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2")
        #expect(cascade.succeeded, "\(cascade)")
        try c.waitForStreaming("node3", from: "node2")
        #expect(c.query("node1", "SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "2")
        let back = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "1")
        #expect(back.succeeded, "\(back)")
        try c.waitForStreaming("node3", from: "node1")
        try waitFor("node2 sees node3's new upstream") { c.query("node2", "SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "1" }

        _ = try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try Self.waitCaughtUp(c, "node1", ["node2", "node3"])
        try c.server("node1").stop(mode: "fast")
        let dry = try f.keel("-f", f.config("node2"), "standby", "promote", "--siblings-follow", "--dry-run")
        #expect(dry.succeeded, "\(dry)")
        #expect(dry.stderr.contains("would make sibling node \"node3\" (ID: 3) follow with:"))
        #expect(dry.stderr.contains("standby follow --upstream-node-id 2"))
        #expect(dry.stderr.contains("would make sibling node \"witness\" (ID: 99) follow with:"))
        #expect(!c.isPrimary("node2"))

        let promote = try f.keel("-f", f.config("node2"), "standby", "promote", "--siblings-follow")
        #expect(promote.succeeded, "\(promote)")
        #expect(promote.stderr.contains("all 2 sibling node(s) now follow the new primary"))
        try c.waitForStreaming("node3", from: "node2")
        _ = try c.server("node2").psql("INSERT INTO t VALUES (2)")
        try waitFor("row 2 on node3") { c.query("node3", "SELECT count(*) FROM t") == "2" }
        #expect(c.query("node2", Self.nodesQuery) == "1:primary:-:false\n2:primary:-:true\n3:standby:2:true\n99:witness:2:true")
        #expect(c.query("witness", "SELECT node_id FROM repmgr.nodes WHERE type = 'primary' AND active") == "2")
        #expect(c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'standby_follow' AND node_id = 3") != "0")
    }

    @Test("node service actions and --list-actions; cluster matrix and crosscheck with every node up and with one down")
    func nodeServiceAndMatrix() throws {
        let c = try FailoverCluster("service", standbys: 2, witness: true,
                                    extra: ["node3": "service_promote_command='echo promote-node3'"], common: Self.pgCtl)
        let f = c.f

        let matrix = try f.keel("-f", f.config("node1"), "cluster", "matrix")
        #expect(matrix.succeeded, "\(matrix)")
        #expect(matrix.stdout.contains("   Name | Id |  1 |  2 |  3 | 99 "))
        #expect(matrix.stdout.contains("witness | 99 |  * |  * |  * |  * "))
        let csv = try f.keel("-f", f.config("node2"), "cluster", "matrix", "--csv")
        #expect(csv.succeeded, "\(csv)")
        #expect(csv.stdout.split(separator: "\n").count == 16)
        #expect(csv.stdout.split(separator: "\n").allSatisfy { $0.hasSuffix(",0") })
        let cross = try f.keel("-f", f.config("node3"), "cluster", "crosscheck")
        #expect(cross.succeeded, "\(cross)")
        #expect(!cross.stdout.contains("x") && !cross.stdout.contains("?"))

        let list = try f.keel("-f", f.config("node3"), "node", "service", "--list-actions")
        #expect(list.succeeded, "\(list)")
        #expect(list.stdout.contains("Following commands would be executed for each action:"))
        for action in ["start", "stop", "restart", "reload"] {
            #expect(list.stdout.contains("\(action): \"") && list.stdout.contains("pg_ctl"), "missing \(action)")
        }
        #expect(list.stdout.contains("promote: \"echo promote-node3\""))
        let one = try f.keel("-f", f.config("node3"), "node", "service", "--list-actions", "--action=stop")
        #expect(one.stdout.contains("stop: \"") && !one.stdout.contains("start:"))

        #expect(try f.keel("-f", f.config("node3"), "node", "service", "--action=bogus").status == 1)
        #expect(try f.keel("-f", f.config("node3"), "node", "service", "--action=start", "--checkpoint").status == 1)

        let stop = try f.keel("-f", f.config("node3"), "node", "service", "--action=stop", "--checkpoint")
        #expect(stop.succeeded, "\(stop)")
        #expect(stop.stderr.contains("issuing CHECKPOINT"))
        #expect(!c.server("node3").isRunning)
        let state = try f.keel("-f", f.config("node3"), "node", "status", "--is-shutdown-cleanly")
        #expect(state.stdout.hasPrefix("--state=DOWN --last-checkpoint-lsn="), "\(state)")

        // node3 down: node3's own row is unknown, every other node sees it fail: exit 25.
        let downMatrix = try f.keel("-f", f.config("node1"), "cluster", "matrix")
        #expect(downMatrix.status == 25, "\(downMatrix)")
        #expect(downMatrix.stdout.contains("  node1 |  1 |  * |  * |  x |  * "))
        #expect(downMatrix.stdout.contains("  node3 |  3 |  ? |  ? |  ? |  ? "))
        let downCross = try f.keel("-f", f.config("node2"), "cluster", "crosscheck", "--csv")
        #expect(downCross.status == 25, "\(downCross)")
        #expect(downCross.stdout.contains("2,3,-1") && downCross.stdout.contains("3,1,-2"))

        let dryStart = try f.keel("-f", f.config("node3"), "node", "service", "--action=start", "--dry-run")
        #expect(dryStart.succeeded && dryStart.stderr.contains("would execute server command"), "\(dryStart)")
        #expect(!c.server("node3").isRunning)
        let start = try f.keel("-f", f.config("node3"), "node", "service", "--action=start")
        #expect(start.succeeded, "\(start)")
        try c.waitForStreaming("node3", from: "node1")
        #expect(try f.keel("-f", f.config("node3"), "node", "status", "--is-shutdown-cleanly").stdout.hasPrefix("--state=UP"))
        let pid = c.server("node3").postmasterPID
        let restart = try f.keel("-f", f.config("node3"), "node", "service", "--action=restart")
        #expect(restart.succeeded, "\(restart)")
        #expect(c.server("node3").postmasterPID != nil && c.server("node3").postmasterPID != pid)
        let reload = try f.keel("-f", f.config("node3"), "node", "service", "--action=reload")
        #expect(reload.succeeded, "\(reload)")
        try c.waitForStreaming("node3", from: "node1")
    }
}
