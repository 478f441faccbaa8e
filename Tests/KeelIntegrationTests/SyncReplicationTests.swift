import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import KeelTesting

/// `synchronous_mode` on real PostgreSQL with running keelds: a writer records every acknowledged commit
/// while the primary is killed with SIGKILL, round after round (the old primary rejoins with pg_rewind
/// between rounds, so every round fails over from a different node).
@Suite("synchronous replication on real PostgreSQL", .serialized)
struct SyncReplicationTests {
    static let rounds = 10
    /// How long the primary's WAL senders are stopped before each kill: the fault's length, not a wait.
    static let stall = 0.5

    @Test("quorum:1 with two standbys: ten kill -9 rounds, no acknowledged commit is ever missing on the new primary")
    func quorumKillRounds() throws {
        let figures = try Self.killRounds(mode: "quorum:1")
        print("synchronous_mode=quorum:1: \(figures)")
        #expect(figures.lost == 0, "acknowledged commits missing on the new primary: \(figures.lost)")
    }

    @Test("the same ten rounds asynchronous: the acknowledged commits lost are counted (a figure, not a failure)")
    func asyncKillRounds() throws {
        let figures = try Self.killRounds(mode: "off")
        print("synchronous_mode=off: \(figures)")
    }

    @Test("quorum:1: a standby leaving narrows the set and joining widens it; a switchover hands the set to the new primary; strict keeps commits waiting without a standby")
    func leaveJoinSwitchoverStrict() throws {
        let pgCtl = "service_start_command=''\nservice_stop_command=''\nservice_restart_command=''\nservice_reload_command=''"
        let c = try FailoverCluster("sync-ops", standbys: 2, witness: false, common: "synchronous_mode=quorum:1\nfencing=off\n" + pgCtl)
        try c.startDaemons()
        try Self.waitForQuorum(c, primary: "node1")

        // node3 leaves: ANY 1 ("node2"), recorded once node2 holds everything; commits go on.
        try c.server("node3").stop(mode: "fast")
        try waitFor("node1 asks for node2 alone and recorded it", timeout: 30) {
            c.query("node1", "SHOW synchronous_standby_names") == "ANY 1 (\"node2\")"
                && c.query("node1", "SELECT quorum || ':' || members FROM repmgr.keel_sync_quorum") == "1:2"
        }
        #expect((try? c.server("node1").psql("CREATE TABLE s (id int); INSERT INTO s VALUES (1)", user: "repmgr", timeout: 10)) != nil)
        // node3 joins again: both, the record widened first.
        try c.server("node3").start()
        try Self.waitForQuorum(c, primary: "node1")
        #expect(c.query("node1", "SELECT count(*) > 0 FROM repmgr.events WHERE event = 'sync_standbys_changed' AND details LIKE "
                        + "'%to ''ANY 1 (\"node2\")''%'") == "t")

        // Switchover: node2's keeld takes over the set (node1, now its standby, and node3).
        let sw = try c.f.keel("-f", c.f.config("node2"), "standby", "switchover", "--siblings-follow")
        #expect(sw.succeeded, "\(sw)")
        try Self.waitForQuorum(c, primary: "node2")
        #expect(c.query("node2", "SELECT count(*) > 0 FROM repmgr.events WHERE event = 'sync_standbys_changed' AND node_id = 2") == "t")
        try waitFor("the former primary, now a standby, cleared its setting", timeout: 30) {
            c.query("node1", "SHOW synchronous_standby_names").isEmpty && !c.isPrimary("node1")
        }

        // Strict: with no standby streaming the set stays, and a commit waits until one streams again.
        let config = c.f.config("node2")
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try (text + "synchronous_mode_strict=on\n").write(toFile: config, atomically: true, encoding: .utf8)
        c.daemons["node2"]?.signal(SIGHUP)
        try waitFor("node2's keeld reloaded", timeout: 30) { c.log("node2").contains("configuration reloaded") }
        try c.server("node1").stop(mode: "fast")
        try c.server("node3").stop(mode: "fast")
        let clock = ContinuousClock()
        let started = clock.now
        let waited = try? c.server("node2").psql("INSERT INTO s VALUES (2)", user: "repmgr", timeout: 4)
        #expect(waited == nil, "the commit was acknowledged with no standby streaming")
        #expect(clock.now - started >= .seconds(3))
        #expect(c.query("node2", "SHOW synchronous_standby_names") == "ANY 1 (\"node1\", \"node3\")")
        try c.server("node3").start()
        try c.waitForStreaming("node3", from: "node2")
        #expect((try? c.server("node2").psql("INSERT INTO s VALUES (3)", user: "repmgr", timeout: 10)) != nil)
    }

    @Test("quorum:1: the primary and one member of ANY 1 (node2, node3) die together: nothing proven, failover_blocked, no promotion; the member returns and the rerun promotes")
    func blockedUntilMemberReturns() throws {
        let c = try FailoverCluster("sync-blocked", standbys: 2, witness: true, common: "synchronous_mode=quorum:1\nfencing=off")
        try c.startDaemons()
        try Self.waitForQuorum(c, primary: "node1")
        try c.server("node1").psql("CREATE TABLE acked (id int); INSERT INTO acked SELECT generate_series(1, 100)")
        try c.server("node3").kill()
        try c.server("node1").kill()
        try c.expectNoPromotion(of: ["node2"], logging: "no promotion: only 1 of the 2 standbys of the synchronous set")
        #expect(c.log("node2").contains("not reporting: node \"node3\" (ID: 3)"))
        try waitFor("node2 records failover_blocked and reruns", timeout: 30) {
            c.log("node2").contains("rerunning the election in 2 s (election_rerun_interval)")
        }
        try c.server("node3").start()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 60)
        #expect(c.query(winner, "SELECT count(*) FROM acked") == "100")
        #expect(c.log("node2").contains("holds every acknowledged commit") || c.log("node3").contains("holds every acknowledged commit"))
    }

    struct Figures: CustomStringConvertible {
        var lost = 0
        var acknowledged = 0
        var failoverSeconds: [Double] = []
        var seconds = 0.0
        var description: String {
            let times = failoverSeconds.map { String(format: "%.1f", $0) }.joined(separator: " ")
            let mean = failoverSeconds.isEmpty ? 0 : failoverSeconds.reduce(0, +) / Double(failoverSeconds.count)
            return "\(lost) of \(acknowledged) acknowledged commits lost over \(failoverSeconds.count) kill -9 rounds; "
                + String(format: "failover mean %.2f s (%@); test %.0f s", mean, times, seconds)
        }
    }

    static func killRounds(mode: String) throws -> Figures {
        let clock = ContinuousClock()
        let started = clock.now
        let c = try FailoverCluster("sync-\(mode == "off" ? "off" : "quorum")", standbys: 2, witness: false,
                                    common: "synchronous_mode=\(mode)\nfencing=off")
        try c.server("node1").psql(Writer.createTableSQL)
        try c.startDaemons()
        let sync = mode != "off"
        var primary = "node1"
        if sync { try waitForQuorum(c, primary: primary) }
        var targets: [String: String] = [:]
        for name in c.names { targets[name] = c.server(name).conninfo() + " connect_timeout=1" }
        let writer = Writer(targets: targets, timeout: 1, pause: 0.005)
        writer.start()
        defer { writer.stop() }
        var figures = Figures()
        var missingBefore = 0
        for round in 1...rounds {
            let before = writer.writes.filter { $0.node == primary }.count
            try waitFor("round \(round): writes acknowledged by \(primary)", timeout: 30) {
                writer.writes.filter { $0.node == primary }.count >= before + 50
            }
            let others = c.names.filter { $0 != primary }
            // The standbys lag when the primary dies: its WAL senders stop for half a second first (as on a
            // slow network), so an asynchronous primary acknowledges commits no standby has received, while a
            // synchronous one keeps them waiting. The SIGKILL of the primary's process tree ends them too.
            let stalled = c.query(primary, "SELECT pid FROM pg_stat_replication").split(separator: "\n").compactMap { Int32($0) }
            #expect(stalled.count == 2, "round \(round): two WAL senders on \(primary)")
            defer { for pid in stalled { _ = Glibc.kill(pid, SIGCONT) } }
            for pid in stalled { _ = Glibc.kill(pid, SIGSTOP) }
            Thread.sleep(forTimeInterval: Self.stall)
            let killed = clock.now
            try c.server(primary).kill()
            var winner = ""
            try waitFor("round \(round): a new primary", timeout: 90, interval: 0.05) {
                winner = others.first { c.isPrimary($0) } ?? ""
                return !winner.isEmpty
            }
            let elapsed = clock.now - killed
            figures.failoverSeconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            let acknowledged = writer.writes
            let present = Set(c.query(winner, "SELECT v FROM fault_writes").split(separator: "\n").compactMap { Int64($0) })
            let missing = acknowledged.filter { !present.contains($0.value) }.count
            figures.lost += missing - missingBefore
            missingBefore = missing
            if sync {
                #expect(missing == 0, "round \(round): \(missing) acknowledged commits missing on \(winner)")
                #expect(c.log(winner).contains("holds every acknowledged commit"), "round \(round): \(winner) proved it")
            }
            // The sibling follows the winner before the old primary comes back: a standby whose lost upstream
            // answers again (even as a standby) takes it back as its upstream, as repmgrd does.
            for node in others where node != winner { try c.waitForStreaming(node, from: winner) }
            try rejoin(c, node: primary, to: winner)
            primary = winner
            if sync { try waitForQuorum(c, primary: primary) }
        }
        if sync {
            #expect(c.query(primary, "SELECT count(*) > 0 FROM repmgr.events WHERE event = 'sync_standbys_changed'") == "t")
        }
        figures.acknowledged = writer.writes.count
        let total = clock.now - started
        figures.seconds = Double(total.components.seconds)
        return figures
    }

    /// The old primary, killed, rejoins `primary` with pg_rewind and streams from it.
    static func rejoin(_ c: FailoverCluster, node: String, to primary: String) throws {
        try waitFor("\(primary) records its promotion", timeout: 30) {
            c.query(primary, "SELECT type FROM repmgr.nodes WHERE node_name = '\(primary)'") == "primary"
        }
        try c.server(primary).psql("CHECKPOINT")
        let rejoined = try c.f.keel("-f", c.f.config(node), "node", "rejoin", "-d", c.server(primary).conninfo(),
                                    "--force-rewind", "--config-files=postgresql.conf")
        #expect(rejoined.succeeded, "\(rejoined)")
        try c.waitForStreaming(node, from: primary)
    }

    /// Waits until `primary`'s keeld asks for ANY 1 of both standbys and has recorded exactly that quorum.
    static func waitForQuorum(_ c: FailoverCluster, primary: String) throws {
        let standbys = c.names.filter { $0 != primary }
        let expected = "ANY 1 (" + standbys.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
        let ids = standbys.map { String($0.dropFirst(4)) }.joined(separator: ",")
        try waitFor("\(primary) asks for \(expected) and recorded it", timeout: 30) {
            c.query(primary, "SHOW synchronous_standby_names") == expected
                && c.query(primary, "SELECT quorum || ':' || members FROM repmgr.keel_sync_quorum") == "1:\(ids)"
        }
    }
}
