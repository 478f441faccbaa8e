import Foundation
import Testing
import KeelTesting

/// keeld's automatic failover on real PostgreSQL (15, or 18 in the second pass of scripts/test) with running daemons: the scenarios of the failover
/// issue. Each waits for conditions (a new primary, streaming, a log line) with timeouts well above the
/// detection window (monitor 1 s, 2 reconnect attempts 1 s apart).
@Suite("keeld failover on real PostgreSQL", .serialized)
struct FailoverTests {
    @Test("kill -9 of the primary: the best standby is promoted, the other follows, the witness sees the new primary; the old primary restarted stays alone and is flagged")
    func killPrimary() throws {
        let c = try FailoverCluster("kill9", standbys: 2, extra: ["node3": "priority=50"])
        try c.startDaemons()
        try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try c.waitForStreaming("node2", from: "node1")
        try waitFor("row replicated") { c.query("node3", "SELECT count(*) FROM t") == "1" }
        // monitoring_history=yes (the guide's setting): each standby's keeld writes rows through the primary.
        try waitFor("monitoring history written") {
            c.query("node1", "SELECT count(DISTINCT standby_node_id) FROM repmgr.monitoring_history WHERE primary_node_id = 1") == "2"
        }
        // Every keeld reports its heartbeat: service status lists all four daemons running.
        try waitFor("all daemons running") {
            let status = (try? c.f.keel("-f", c.f.config("node1"), "service", "status", "--csv"))?.stdout ?? ""
            return status.split(separator: "\n").count == 4 && status.split(separator: "\n").allSatisfy { $0.split(separator: ",")[4] == "1" }
        }

        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        #expect(winner == "node2", "equal LSNs: the higher priority wins")
        try c.waitForStreaming("node3", from: "node2")
        try c.server("node2").psql("INSERT INTO t VALUES (2)")
        try waitFor("write on the new primary reaches node3") { c.query("node3", "SELECT count(*) FROM t") == "2" }

        // Metadata and events on the new primary.
        try waitFor("metadata updated") {
            c.query("node2", "SELECT node_id || ':' || type || ':' || active || ':' || coalesce(upstream_node_id::text, '-') FROM repmgr.nodes WHERE node_id IN (1, 2, 3) ORDER BY 1")
                == "1:primary:false:-\n2:primary:true:-\n3:standby:true:2"
        }
        try waitFor("failover events recorded") {
            let events = c.query("node2", "SELECT string_agg(DISTINCT event, ',') FROM repmgr.events")
            return events.contains("repmgrd_failover_promote") && events.contains("repmgrd_failover_follow")
        }
        try waitFor("witness copy shows the new primary", timeout: 30) {
            c.query("witness", "SELECT node_id FROM repmgr.nodes WHERE type = 'primary' AND active") == "2"
        }

        // The old primary comes back on its own: it is never followed, keeld flags it and fences it (demoted to a
        // read-only standby), cluster show flags it too.
        try c.server("node1").start()
        try waitFor("former primary recorded", timeout: 30) {
            c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'keeld_former_primary' AND node_id = 1") != "0"
        }
        try waitFor("former primary fenced", timeout: 30) {
            c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'node_fenced' AND node_id = 1") != "0"
                && c.query("node1", "SELECT pg_is_in_recovery()") == "t"
        }
        #expect(c.query("node2", "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node3'") == "1")
        #expect(c.query("node1", "SELECT count(*) FROM pg_stat_replication") == "0")
        let show = try c.f.keel("-f", c.f.config("node3"), "cluster", "show")
        #expect(show.status == 25)
        #expect(show.stdout.contains("! running"))
    }

    @Test("clean stop of the primary: a standby is promoted and the other follows")
    func cleanStop() throws {
        let c = try FailoverCluster("stop", standbys: 2, witness: false, extra: ["node1": "child_nodes_check_interval=1"])
        try c.startDaemons()
        // The primary's keeld watches its child nodes: a standby going away and coming back is recorded
        // (as repmgr: under the primary's node ID, the child named in the details).
        try waitFor("primary checked its children once") { c.log("node1").contains("monitoring cluster primary") }
        try c.server("node3").stop(mode: "fast")
        try waitFor("child_node_disconnect recorded", timeout: 30) {
            c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event = 'child_node_disconnect' AND node_id = 1 AND details LIKE '%\"node3\" (ID: 3)%'") == "1"
        }
        try c.server("node3").start()
        try waitFor("child_node_reconnect recorded", timeout: 30) {
            c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event = 'child_node_reconnect' AND node_id = 1 AND details LIKE '%\"node3\" (ID: 3)%'") == "1"
        }
        try c.server("node1").stop(mode: "fast")
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        #expect(winner == "node2", "equal LSN and priority: the lowest node_id wins")
        try c.waitForStreaming("node3", from: "node2")
    }

    @Test("the standby with the later LSN wins over a higher priority")
    func lsnBeforePriority() throws {
        let c = try FailoverCluster("lsn", standbys: 2, witness: true, extra: ["node2": "priority=200", "node3": "priority=100"])
        // node2 stops receiving WAL; then the primary writes: node3 is ahead.
        try c.server("node2").psql("ALTER SYSTEM SET primary_conninfo = ''")
        try c.server("node2").psql("SELECT pg_reload_conf()")
        try waitFor("node2 detached") { c.query("node1", "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node2'") == "0" }
        try c.server("node1").psql("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g")
        let lsn = try c.server("node1").psql("SELECT pg_current_wal_lsn()")
        try waitFor("node3 caught up") { c.query("node3", "SELECT pg_last_wal_receive_lsn() >= '\(lsn)'") == "t" }
        try c.startDaemons()
        try c.server("node1").kill()
        #expect(try c.waitForNewPrimary(among: ["node2", "node3"]) == "node3")
    }

    @Test("priority=0 is never promoted, even as the lowest node ID with an equal LSN; it follows the winner")
    func priorityZero() throws {
        let c = try FailoverCluster("prio0", standbys: 2, witness: true, extra: ["node2": "priority=0"])
        try c.startDaemons()
        try c.server("node1").kill()
        #expect(try c.waitForNewPrimary(among: ["node2", "node3"]) == "node3")
        try c.waitForStreaming("node2", from: "node3")
    }

    @Test("locations: with the witness in the primary's location and the standbys elsewhere, losing both cancels the election")
    func locations() throws {
        let c = try FailoverCluster("loc", standbys: 2, witness: true,
                                    locations: ["node1": "dc1", "witness": "dc1", "node2": "dc2", "node3": "dc2"])
        try c.startDaemons()
        try c.server("witness").kill()
        try c.server("node1").kill()
        try c.expectNoPromotion(of: ["node2", "node3"], logging: "no nodes from the primary location \"dc1\" visible")
    }

    @Test("failover_validation_command vetoes, and a rerun promotes once it allows")
    func validationVeto() throws {
        // keeld runs in the workspace: the command looks for the file there.
        let c = try FailoverCluster("veto", standbys: 1, witness: true,
                                    extra: ["node2": "failover_validation_command='test -f allow-failover'"])
        try c.startDaemons()
        try c.server("node1").kill()
        try waitFor("validation vetoes", timeout: 60) { c.log("node2").contains("failover_validation_command exited with status 1") }
        #expect(!c.isPrimary("node2"))
        try c.f.workspace.writeFile("allow-failover", "yes\n")
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")
    }

    @Test("failover=manual: the standbys only report the loss")
    func manual() throws {
        let c = try FailoverCluster("manual", standbys: 2, witness: false, common: "failover=manual")
        try c.startDaemons()
        try c.server("node1").kill()
        try c.expectNoPromotion(of: ["node2", "node3"], logging: "not configured for automatic failover")
    }

    @Test("a keeld restarted while paused stays paused: it sees the primary's loss and does not fail over")
    func pausedRestart() throws {
        let c = try FailoverCluster("pause", standbys: 1, witness: true)
        try c.startDaemons()
        try c.f.keel("-f", c.f.config("node1"), "service", "pause").requireSuccess()
        try waitFor("pause replicated") { c.query("node2", "SELECT paused FROM repmgr.keel_daemon WHERE node_id = 2") == "t" }
        c.daemons["node2"]?.terminate()
        try c.startDaemon("node2")
        try waitFor("node2 monitoring again") { c.log("node2").contains("monitoring") }
        let status = try c.f.keel("-f", c.f.config("node1"), "service", "status", "--csv")
        #expect(status.stdout.contains(",1,1,"), "\(status.stdout)")
        try c.server("node1").kill()
        try waitFor("paused node2 sees the loss", timeout: 60) { c.log("node2").contains("still unreachable; no failover while paused") }
        #expect(!c.isPrimary("node2"))
        // The flag lives on the (lost) primary; the operator promotes by hand.
        #expect(try c.f.keel("-f", c.f.config("node2"), "standby", "promote").succeeded)
        #expect(c.isPrimary("node2"))
    }

    @Test("SIGHUP with a broken configuration keeps the running one")
    func reloadBroken() throws {
        let c = try FailoverCluster("hup", standbys: 1, witness: false)
        try c.startDaemons()
        let config = c.f.config("node2")
        let good = try String(contentsOfFile: config, encoding: .utf8)
        try c.f.workspace.writeFile("node2.conf", good + "\npriority=not-a-number\n")
        c.daemons["node2"]?.signal(SIGHUP)
        try waitFor("reload refused") { c.log("node2").contains("configuration not reloaded") }
        #expect(c.daemons["node2"]?.isRunning == true)
        #expect(c.log("node2").contains("priority"))
        // Still monitoring with the old configuration: it fails over.
        try c.server("node1").kill()
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")
    }
}

@Suite("keel daemon start|stop and service status", .serialized)
struct DaemonControlTests {
    @Test("daemon start runs keeld in the background with a pid file; daemon stop ends it; a second keeld is refused")
    func startStop() throws {
        let c = try FailoverCluster("daemonctl", standbys: 1, witness: false,
                                    common: "repmgrd_service_start_command=''\nrepmgrd_service_stop_command=''")
        let pidFile = c.f.workspace.path + "/node2-keeld.pid"
        let start = try c.f.keel("-f", c.f.config("node2"), "daemon", "start")
        #expect(start.succeeded, "\(start)")
        let pid = try #require(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        defer { kill(pid, SIGKILL) }
        #expect(kill(pid, 0) == 0)
        try waitFor("node2's keeld reports") {
            ((try? c.f.keel("-f", c.f.config("node1"), "service", "status", "--csv"))?.stdout ?? "").contains("2,node2,standby,1,1,\(pid),")
        }
        // A second keeld for the same node is refused (exit 3), the first keeps running.
        let second = try c.f.workspace.run("keeld", ["-f", c.f.config("node2")], timeout: 30)
        #expect(second.status == 3, "\(second)")
        #expect(kill(pid, 0) == 0)
        let stop = try c.f.keel("-f", c.f.config("node2"), "daemon", "stop")
        #expect(stop.succeeded, "\(stop)")
        #expect(!FileManager.default.fileExists(atPath: pidFile), "a clean stop removes the pid file")
        try waitFor("shutdown recorded") {
            c.query("node1", "SELECT count(*) FROM repmgr.events WHERE event = 'repmgrd_shutdown' AND node_id = 2") == "1"
        }
        let status = try c.f.keel("-f", c.f.config("node1"), "service", "status")
        #expect(status.status == 25)
        #expect(status.stdout.contains("not running"))
    }
}

@Suite("keeld reloads the failover rules", .serialized)
struct FailoverReloadTests {
    @Test("failover=automatic changed to manual by SIGHUP: the standby does not promote")
    func reloadToManual() throws {
        let c = try FailoverCluster("hupmanual", standbys: 1, witness: true)
        try c.startDaemons()
        let config = c.f.config("node2")
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try c.f.workspace.writeFile("node2.conf", text + "\nfailover=manual\n")
        c.daemons["node2"]?.signal(SIGHUP)
        try waitFor("node2 applied failover=manual") { c.log("node2").contains("failover settings reloaded (failover=manual") }
        try c.server("node1").kill()
        try c.expectNoPromotion(of: ["node2"], logging: "not configured for automatic failover")
    }

    @Test("a keeld whose server is down at start still stops on SIGTERM")
    func stopsWithoutServer() throws {
        let c = try FailoverCluster("noserver", standbys: 1, witness: false)
        try c.server("node2").stop(mode: "fast")
        try c.startDaemon("node2")
        try waitFor("keeld retries the local connection") { c.log("node2").contains("unable to connect to local node") }
        c.daemons["node2"]?.signal(SIGTERM)
        let status = c.daemons["node2"]?.waitForExit(timeout: 15)
        #expect(status == 0, "keeld ended cleanly on SIGTERM (status \(String(describing: status)))")
    }
}
