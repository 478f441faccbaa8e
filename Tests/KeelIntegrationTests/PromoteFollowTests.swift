import Foundation
import Testing
import KeelTesting

/// `keel standby promote` and `keel standby follow` on real PostgreSQL (15, or 18 in the second pass of scripts/test): a primary and two standbys built
/// with keel (as the deployment guide does), a stopped primary, a promotion, standbys re-pointed (cascading,
/// back to the primary, onto the new primary's timeline), and the refusals: promoting a primary or beside a
/// running primary, following a foreign cluster, following onto a timeline this standby has diverged from.
@Suite("standby promote and standby follow on real PostgreSQL", .serialized)
struct PromoteFollowTests {
    static let nodesQuery = "SELECT node_id, type, upstream_node_id, active FROM repmgr.nodes ORDER BY node_id"

    /// node1 (primary) and node2, node3 (standbys of node1) with replication slots, registered with keel.
    struct Cluster {
        let node1: PostgresServer
        let node2: PostgresServer
        let node3: PostgresServer
    }

    static func buildCluster(_ f: ClusterFixture) throws -> Cluster {
        let ws = f.workspace
        let node1 = try ws.startPrimary(name: "node1")
        try f.writeConfig(id: 1, name: "node1", port: node1.port, dataDirectory: node1.dataDirectory)
        try f.keel("-f", f.config("node1"), "primary", "register").requireSuccess()
        var standbys: [PostgresServer] = []
        for id in [2, 3] {
            let name = "node\(id)"
            let port = try ws.freePort()
            try f.writeConfig(id: id, name: name, port: port, dataDirectory: ws.dataDirectoryPath(name: name))
            try f.keel("-f", f.config(name), "standby", "clone", "-h", "127.0.0.1", "-p", "\(node1.port)", "-U", "repmgr", "-d", "repmgr",
                       "--fast-checkpoint").requireSuccess()
            standbys.append(try f.startClone(name: name, port: port))
            try f.keel("-f", f.config(name), "standby", "register").requireSuccess()
        }
        try waitFor("node2 and node3 streaming from node1", timeout: 60) {
            try node1.psql("SELECT string_agg(application_name || ':' || state, ',' ORDER BY application_name) FROM pg_stat_replication")
                == "node2:streaming,node3:streaming"
        }
        return Cluster(node1: node1, node2: standbys[0], node3: standbys[1])
    }

    /// Waits until every standby has replayed everything `primary` has written so far.
    static func waitCaughtUp(_ primary: PostgresServer, _ standbys: PostgresServer...) throws {
        let lsn = try primary.psql("SELECT pg_current_wal_lsn()")
        for standby in standbys {
            try waitFor("\(standby.name) replayed up to \(lsn)") {
                try standby.psql("SELECT pg_last_wal_replay_lsn() >= '\(lsn)'::pg_lsn") == "t"
            }
        }
    }

    @Test("promote refuses a primary and a running primary; follow cascades and returns; after the primary stops, promote and follow the new primary")
    func promoteAndFollow() throws {
        let f = try ClusterFixture("promote")
        let ws = f.workspace
        let c = try Self.buildCluster(f)
        let initialNodes = "1|primary||t\n2|standby|1|t\n3|standby|1|t"
        #expect(try c.node1.psql(Self.nodesQuery) == initialNodes)

        // promote on the primary: exit 8, nothing changes.
        let onPrimary = try f.keel("-f", f.config("node1"), "standby", "promote")
        #expect(onPrimary.status == 8, "\(onPrimary)")
        #expect(onPrimary.stderr.contains("this node is not a standby"))

        // promote while node1 runs as the primary: exit 8 naming it, nothing changes.
        let besidePrimary = try f.keel("standby", "promote", "-f", f.config("node2"))
        #expect(besidePrimary.status == 8, "\(besidePrimary)")
        #expect(besidePrimary.stderr.contains("already has an active primary"))
        #expect(besidePrimary.stderr.contains("node \"node1\" (ID: 1)"))
        #expect(try c.node2.psql("SELECT pg_is_in_recovery()") == "t")
        #expect(try c.node1.psql(Self.nodesQuery) == initialNodes)
        #expect(try c.node1.psql("SELECT count(*) FROM repmgr.events WHERE event = 'standby_promote'") == "0")
        #expect(try c.node1.psql("SELECT term FROM repmgr.voting_term") == "1")

        // Cascading: node3 follows the standby node2; its slot moves from node1 to node2.
        try Self.waitCaughtUp(c.node1, c.node2, c.node3)
        let cascade = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2")
        #expect(cascade.succeeded, "\(cascade)")
        #expect(try c.node2.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'node3'") == "streaming")
        #expect(try c.node2.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "1")
        #expect(try c.node1.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "0")
        #expect(try c.node1.psql("SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "2")
        #expect(try c.node1.psql("SELECT details FROM repmgr.events WHERE event = 'standby_follow' AND node_id = 3")
            == "standby attached to upstream node \"node2\" (ID: 2)")
        #expect(try c.node3.psql("SHOW primary_conninfo").contains("port=\(c.node2.port)"))
        #expect(try c.node3.psql("SHOW primary_conninfo").contains("application_name=node3"))
        #expect(try !c.node3.psql("SHOW primary_conninfo").contains("dbname"))

        // Without --upstream-node-id: the running primary (node1), found by probing; the slot moves back.
        // This time with standby_follow_restart (pg_ctl stop and start; the guide's service commands are cleared).
        try waitFor("node3's metadata to show its new upstream") {
            try c.node3.psql("SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "2"
        }
        let postmasterBefore = c.node3.postmasterPID
        try f.writeConfig(id: 3, name: "node3", port: c.node3.port, dataDirectory: c.node3.dataDirectory,
                          extra: "standby_follow_restart=on\nservice_restart_command=''\nservice_start_command=''\nservice_stop_command=''")
        let back = try f.keel("-f", f.config("node3"), "standby", "follow")
        #expect(back.succeeded, "\(back)")
        #expect(back.stderr.contains("restarting the server"))
        #expect(c.node3.postmasterPID != nil && c.node3.postmasterPID != postmasterBefore)
        try f.writeConfig(id: 3, name: "node3", port: c.node3.port, dataDirectory: c.node3.dataDirectory)
        #expect(try c.node1.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'node3'") == "streaming")
        #expect(try c.node1.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "t")
        #expect(try c.node2.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "0")
        #expect(try c.node1.psql(Self.nodesQuery) == initialNodes)
        try waitFor("node3's metadata to show node1 as its upstream again") {
            try c.node3.psql("SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "1"
        }

        // The primary stops (fast: both standbys receive its shutdown checkpoint).
        try Self.waitCaughtUp(c.node1, c.node2, c.node3)
        try c.node1.stop(mode: "fast")

        // --dry-run: the checks pass, nothing changes.
        let dryRun = try f.keel("-f", f.config("node2"), "standby", "promote", "--dry-run")
        #expect(dryRun.succeeded, "\(dryRun)")
        #expect(dryRun.stderr.contains("would promote"))
        #expect(try c.node2.psql("SELECT pg_is_in_recovery()") == "t")
        #expect(try c.node2.psql(Self.nodesQuery) == initialNodes)
        #expect(try c.node2.psql("SELECT term FROM repmgr.voting_term") == "1")

        // The promotion.
        let promote = try f.keel("-f", f.config("node2"), "standby", "promote")
        #expect(promote.succeeded, "\(promote)")
        #expect(promote.stderr.contains("STANDBY PROMOTE successful"))
        #expect(try c.node2.psql("SELECT pg_is_in_recovery()") == "f")
        _ = try c.node2.psql("CREATE TABLE after_failover (id int PRIMARY KEY); INSERT INTO after_failover VALUES (1)")
        #expect(try c.node2.psql(Self.nodesQuery) == "1|primary||f\n2|primary||t\n3|standby|1|t")
        #expect(try c.node2.psql("SELECT term FROM repmgr.voting_term") == "2")
        #expect(try c.node2.psql("SELECT node_id || ':' || successful::int || ':' || details FROM repmgr.events WHERE event = 'standby_promote'")
            == "2:1:server \"node2\" (ID: 2) was successfully promoted to primary")
        // The current WAL file's timeline (the control file's checkpoint may still show 1 right after promotion).
        #expect(try c.node2.psql("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)") == "00000002")

        // follow --dry-run: nothing changes on node3 or node2.
        let followDry = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2", "--dry-run")
        #expect(followDry.succeeded, "\(followDry)")
        #expect(followDry.stderr.contains("would set primary_conninfo"))
        #expect(try c.node3.psql("SHOW primary_conninfo").contains("port=\(c.node1.port)"))
        #expect(try c.node2.psql("SELECT count(*) FROM pg_replication_slots") == "0")

        // node3 follows the new primary onto timeline 2; node1 is down, so its old slot there stays.
        let follow = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id=2")
        #expect(follow.succeeded, "\(follow)")
        #expect(follow.stderr.contains("STANDBY FOLLOW successful"))
        #expect(follow.stderr.contains("was not dropped"))
        #expect(try c.node2.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'node3'") == "streaming")
        #expect(try c.node2.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "t")
        _ = try c.node2.psql("INSERT INTO after_failover VALUES (2)")
        try waitFor("the row written on node2 on node3") { try c.node3.psql("SELECT count(*) FROM after_failover") == "2" }
        #expect(try c.node3.psql("SELECT received_tli FROM pg_stat_wal_receiver") == "2")
        #expect(try c.node2.psql(Self.nodesQuery) == "1|primary||f\n2|primary||t\n3|standby|2|t")
        // The cascade and the return were recorded on node1 and replicated before the failover.
        #expect(try c.node2.psql("SELECT string_agg(node_id || ':' || details, E'\\n' ORDER BY event_timestamp) FROM repmgr.events WHERE event = 'standby_follow'")
            == "3:standby attached to upstream node \"node2\" (ID: 2)\n3:standby attached to upstream node \"node1\" (ID: 1)\n3:standby attached to upstream node \"node2\" (ID: 2)")

        // cluster show agrees: node2 primary, node3 its standby, node1 failed.
        let show = try f.keel("-f", f.config("node3"), "cluster", "show", "--csv")
        #expect(show.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1,-1,-1\n2,0,0\n3,0,1")

        // A registered node of another cluster (different system identifier): exit 23, node3 stays on node2.
        let other = try ws.startPrimary(name: "other")
        _ = try c.node2.psql("""
            INSERT INTO repmgr.nodes (node_id, node_name, type, conninfo, repluser, config_file)
            VALUES (9, 'other', 'standby', '\(other.conninfo())', 'repmgr', '/nonexistent')
            """)
        try waitFor("node 9 registered on node3") { try c.node3.psql("SELECT count(*) FROM repmgr.nodes WHERE node_id = 9") == "1" }
        let foreign = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "9")
        #expect(foreign.status == 23, "\(foreign)")
        #expect(foreign.stderr.contains("system identifier"))
        #expect(try c.node3.psql("SHOW primary_conninfo").contains("port=\(c.node2.port)"))
        #expect(try other.psql("SELECT count(*) FROM pg_replication_slots") == "0")

        // Following oneself or an unregistered node is refused with exit 1.
        #expect(try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "3").status == 1)
        #expect(try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "42").status == 1)

        // Following from a primary is refused: it must be rejoined.
        let fromPrimary = try f.keel("-f", f.config("node2"), "standby", "follow", "--upstream-node-id", "3")
        #expect(fromPrimary.status == 1, "\(fromPrimary)")
        #expect(fromPrimary.stderr.contains("not a standby"))
    }

    @Test("a standby that kept receiving from the old primary after the promotion cannot follow the new one: exit 23, rejoin hint, nothing changed")
    func divergedStandbyCannotFollow() throws {
        let f = try ClusterFixture("diverged")
        let c = try Self.buildCluster(f)
        try Self.waitCaughtUp(c.node1, c.node2, c.node3)
        try c.node1.stop(mode: "fast")
        let promote = try f.keel("-f", f.config("node2"), "standby", "promote")
        #expect(promote.succeeded, "\(promote)")

        // Split brain: the old primary comes back on timeline 1, is written to, and node3 streams that WAL.
        try c.node1.start()
        _ = try c.node1.psql("CREATE TABLE split_brain (id int); INSERT INTO split_brain VALUES (1)")
        try waitFor("node3 to replay the old primary's new WAL", timeout: 60) {
            try c.node3.psql("SELECT count(*) FROM split_brain") == "1"
        }

        let diverged = try f.keel("-f", f.config("node3"), "standby", "follow", "--upstream-node-id", "2")
        #expect(diverged.status == 23, "\(diverged)")
        #expect(diverged.stderr.contains("cannot attach to follow target node \"node2\" (ID: 2)"))
        #expect(diverged.stderr.contains("forked off"))
        #expect(diverged.stderr.contains("HINT:"))
        #expect(diverged.stderr.contains("keel node rejoin --force-rewind"))
        // Nothing changed: node3 still streams from node1, no slot on node2, metadata as before.
        #expect(try c.node3.psql("SHOW primary_conninfo").contains("port=\(c.node1.port)"))
        #expect(try c.node1.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'node3'") == "streaming")
        #expect(try c.node2.psql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'") == "0")
        #expect(try c.node2.psql("SELECT upstream_node_id FROM repmgr.nodes WHERE node_id = 3") == "1")
        #expect(try c.node2.psql("SELECT count(*) FROM repmgr.events WHERE event = 'standby_follow'") == "0")

        // With two primaries running, promoting node3 is refused, naming both.
        let third = try f.keel("-f", f.config("node3"), "standby", "promote")
        #expect(third.status == 8, "\(third)")
        #expect(third.stderr.contains("node \"node1\" (ID: 1)"))
        #expect(third.stderr.contains("node \"node2\" (ID: 2)"))
        #expect(try c.node3.psql("SELECT pg_is_in_recovery()") == "t")
    }
}
