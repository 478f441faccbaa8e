import Foundation
import Testing
import KeelTesting

extension FailoverTests {
    /// node2 wins the election (higher priority, equal LSN) but its `promote_command` fails: node3 waits
    /// `primary_notification_timeout` (5 s) for it, then reruns the election without node2 and promotes
    /// itself; node2, in degraded monitoring, follows node3.
    @Test("promote_command that fails: the winner is left out of the rerun, the next standby is promoted, the failed winner follows it")
    func failingPromoteCommand() throws {
        let c = try FailoverCluster("badpromote", standbys: 2, witness: true,
                                    extra: ["node2": "priority=200\npromote_command='/bin/false'"],
                                    common: "primary_notification_timeout=5")
        try c.startDaemons()
        try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try waitFor("row replicated to both standbys") {
            c.query("node2", "SELECT count(*) FROM t") == "1" && c.query("node3", "SELECT count(*) FROM t") == "1"
        }

        let clock = ContinuousClock()
        let killed = clock.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 60)
        let took = clock.now - killed
        print("failed candidate figure: node3 primary \(took) after kill -9 of node1 (primary_notification_timeout 5 s)")
        #expect(winner == "node3")
        #expect(took < .seconds(20), "detection (about 2 s) + primary_notification_timeout (5 s) + the promotion")
        #expect(c.log("node2").contains("promote_command failed on this node \"node2\" (ID: 2)"))
        #expect(c.log("node3").contains("node \"node2\" (ID: 2) did not become primary within 5 s"))
        #expect(c.log("node3").contains(
            "excluding node \"node2\" (ID: 2): elected but not primary after primary_notification_timeout"))

        // node2, degraded after its failed promotion, follows node3; node3 stays the only primary.
        try c.waitForStreaming("node2", from: "node3")
        #expect(!c.isPrimary("node2"))
        try c.server("node3").psql("INSERT INTO t VALUES (2)")
        try waitFor("write on node3 reaches node2") { c.query("node2", "SELECT count(*) FROM t") == "2" }
        try waitFor("metadata: node3 the only active primary, node2 its standby") {
            c.query("node3", "SELECT node_id || ':' || type || ':' || active || ':' || coalesce(upstream_node_id::text, '-') "
                    + "FROM repmgr.nodes WHERE node_id IN (1, 2, 3) ORDER BY 1")
                == "1:primary:false:-\n2:standby:true:3\n3:primary:true:-"
        }
    }
}
