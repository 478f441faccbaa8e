import Foundation
import Testing
import KeelTesting

/// Fencing on real PostgreSQL (15, or 18 in the second pass of scripts/test) with running daemons, on loopback: a former primary restarted by hand is
/// fenced each time (demote, or stop), rejoins by itself with `auto_rejoin=on`, and a primary that loses
/// the standby and the witness fences itself, then unfences when they are back and nothing changed.
@Suite("keeld fencing on real PostgreSQL", .serialized)
struct FencingTests {
    /// `INSERT` on `name` with a short client timeout: true only when the commit was acknowledged.
    static func writeAcknowledged(_ c: FailoverCluster, _ name: String) -> Bool {
        (try? c.server(name).psql("SET statement_timeout = '2s'; INSERT INTO t VALUES (100)", user: "repmgr", timeout: 4)) != nil
    }

    /// Kills node1, waits for node2 to be promoted and node1's keeld to notice its server is gone.
    static func failOver(_ c: FailoverCluster) throws {
        try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try c.waitForStreaming("node2", from: "node1")
        try c.server("node1").kill()
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")
        try waitFor("row on the new primary") { c.query("node2", "SELECT count(*) FROM t") == "1" }
    }

    static func fencedEvents(_ c: FailoverCluster) -> Int {
        Int(c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'node_fenced' AND node_id = 1")) ?? 0
    }

    @Test("an old primary restarted by hand after a failover is fenced (demoted, no write acknowledged) each time, and shown '! running' on both nodes")
    func formerPrimaryFencedTwice() throws {
        let c = try FailoverCluster("fence2x", standbys: 1, witness: true)
        try c.startDaemons()
        try Self.failOver(c)
        for round in 1...2 {
            let clock = ContinuousClock()
            let started = clock.now
            try c.server("node1").start()
            try waitFor("node1 fenced (round \(round))", timeout: 20) {
                Self.fencedEvents(c) >= round && c.query("node1", "SELECT pg_is_in_recovery()") == "t"
            }
            let elapsed = clock.now - started
            #expect(elapsed < .seconds(15), "fenced within the window: \(elapsed)")
            print("fencing figure: former primary started by hand, fenced and in recovery \(elapsed) after the start returned (round \(round))")
            #expect(!Self.writeAcknowledged(c, "node1"), "a fenced node acknowledges no write")
            let fence = c.server("node1").dataDirectory + "/keel.fence"
            let mode = (try FileManager.default.attributesOfItem(atPath: fence)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            for config in ["node1", "node2"] {
                let show = try c.f.keel("-f", c.f.config(config), "cluster", "show")
                #expect(show.status == 25)
                let line = show.stdout.split(separator: "\n").first { $0.contains(" node1 ") }
                #expect(line?.contains("! running") == true, "cluster show from \(config): \(show.stdout)")
            }
            // An operator forces it back up as a primary: it must be fenced again.
            try c.server("node1").stop(mode: "fast")
            try FileManager.default.removeItem(atPath: c.server("node1").dataDirectory + "/standby.signal")
        }
        #expect(c.log("node1").contains("this node is a former primary"))
        #expect(c.query("node2", "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node1'") == "0",
                "no standby follows the former primary, and it follows nobody")
    }

    @Test("auto_rejoin=on: the fenced former primary rejoins the new primary by itself")
    func autoRejoin() throws {
        let c = try FailoverCluster("rejoin", standbys: 1, witness: true, extra: ["node1": "auto_rejoin=on"])
        try c.startDaemons()
        try Self.failOver(c)
        try c.server("node2").psql("INSERT INTO t VALUES (2)")
        try c.server("node1").start()
        try c.waitForStreaming("node1", from: "node2", timeout: 90)
        try waitFor("row replicated to the rejoined node") { c.query("node1", "SELECT count(*) FROM t") == "2" }
        try waitFor("fence ended") { !FileManager.default.fileExists(atPath: c.server("node1").dataDirectory + "/keel.fence") }
        #expect(Self.fencedEvents(c) >= 1)
        try waitFor("node_rejoin recorded") {
            c.query("node2", "SELECT count(*) FROM repmgr.events WHERE event = 'node_rejoin' AND node_id = 1 AND successful") == "1"
        }
        try waitFor("auto_rejoin logged its end") { c.log("node1").contains("fence ended") }
        #expect(c.query("node1", "SHOW synchronous_standby_names") == "", "the fence's setting is undone")
    }

    @Test("fence_action=stop: the former primary's server is stopped")
    func stopAction() throws {
        let c = try FailoverCluster("fencestop", standbys: 1, witness: true, extra: ["node1": "fence_action=stop"])
        try c.startDaemons()
        try Self.failOver(c)
        try c.server("node1").start()
        try waitFor("node1 stopped by its fence", timeout: 20) { Self.fencedEvents(c) >= 1 && !c.server("node1").isRunning }
        #expect(c.log("node1").contains("fenced (stop)"))
    }

    @Test("isolation: a primary that still sees the witness does not fence; alone, it fences; with everyone back it unfences")
    func isolation() throws {
        let c = try FailoverCluster("isolate", standbys: 1, witness: true)
        try c.startDaemons()
        try c.server("node1").psql("CREATE TABLE t (id int)")
        try c.server("node2").stop(mode: "fast")
        let sees = "1 of 2 nodes sharing this primary as upstream are visible: the others cannot elect"
        try waitFor("three rounds seeing only the witness", timeout: 30) {
            c.log("node1").components(separatedBy: sees).count > 3
        }
        #expect(c.isPrimary("node1"))
        #expect(Self.writeAcknowledged(c, "node1"))

        let clock = ContinuousClock()
        let started = clock.now
        try c.server("witness").stop(mode: "fast")
        try waitFor("node1 fenced alone", timeout: 20) { c.query("node1", "SELECT pg_is_in_recovery()") == "t" }
        print("fencing figure: isolated primary in recovery \(clock.now - started) after the witness stopped")
        #expect(c.log("node1").contains("0 of 2 nodes sharing this primary as upstream are visible"))
        #expect(!Self.writeAcknowledged(c, "node1"))

        try c.server("witness").start()
        try c.server("node2").start()
        try waitFor("node1 unfenced", timeout: 60) { c.isPrimary("node1") && c.log("node1").contains("unfenced and primary again") }
        try waitFor("writes acknowledged again") { Self.writeAcknowledged(c, "node1") }
        try waitFor("node2 streams from node1 again", timeout: 60) {
            c.query("node1", "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node2'") == "1"
        }
    }

    @Test("two-node cluster: fencing=auto warns and keeps repmgr's behaviour when the standby goes; fencing=strict fences")
    func twoNode() throws {
        let auto = try FailoverCluster("twonode", standbys: 1, witness: false)
        try auto.startDaemons()
        try waitFor("two-node warning", timeout: 30) { auto.log("node1").contains("two-node cluster (one standby, no witness)") }
        try auto.server("node2").stop(mode: "fast")
        let note = "a two-node cluster is not fenced with fencing=auto"
        try waitFor("three rounds without the standby", timeout: 30) { auto.log("node1").components(separatedBy: note).count > 3 }
        #expect(auto.isPrimary("node1"))

        let strict = try FailoverCluster("twostrict", standbys: 1, witness: false, common: "fencing=strict")
        try strict.startDaemons()
        try strict.server("node2").stop(mode: "fast")
        try waitFor("node1 fenced without its only standby", timeout: 20) { strict.query("node1", "SELECT pg_is_in_recovery()") == "t" }
    }
}
