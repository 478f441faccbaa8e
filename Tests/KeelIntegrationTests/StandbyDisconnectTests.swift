import Foundation
import Testing
import KeelTesting

/// `standby_disconnect_on_failover` on real PostgreSQL: the siblings' stopped WAL receivers are observed,
/// and the `primary_conninfo` keeld clears is kept in `keeld.facts` until it is put back.
@Suite("keeld stops and restores WAL receivers", .serialized)
struct StandbyDisconnectTests {
    @Test("the siblings' stopped WAL receivers are seen, so the election does not wait for sibling_nodes_disconnect_timeout; no facts file is left")
    func siblingsDisconnected() throws {
        let c = try FailoverCluster("sibdisc", standbys: 2, witness: true,
                                    common: "standby_disconnect_on_failover=true\nsibling_nodes_disconnect_timeout=60")
        try c.startDaemons()
        try c.waitForStreaming("node2", from: "node1")
        try c.waitForStreaming("node3", from: "node1")
        let clock = ContinuousClock()
        let killed = clock.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 40)
        let took = clock.now - killed
        #expect(took < .seconds(30), "failover took \(took); sibling_nodes_disconnect_timeout is 60 s")
        let other = winner == "node2" ? "node3" : "node2"
        try c.waitForStreaming(other, from: winner)
        #expect(c.log(winner).contains("WAL receiver disconnected on all sibling nodes")
                || c.log(other).contains("WAL receiver disconnected on all sibling nodes"))
        for node in ["node2", "node3"] {
            let facts = c.server(node).dataDirectory + "/keeld.facts"
            try waitFor("\(node)'s facts file removed") { !FileManager.default.fileExists(atPath: facts) }
        }
    }

    @Test("a keeld started after a crash in the window where it had stopped the WAL receiver restores primary_conninfo from keeld.facts")
    func restoresAfterRestart() throws {
        let c = try FailoverCluster("factsrestore", standbys: 1, witness: false)
        let node2 = c.server("node2")
        let conninfo = try node2.psql("SHOW primary_conninfo")
        #expect(!conninfo.isEmpty)
        // What keeld leaves behind when it dies between stopping the WAL receiver and starting it again.
        let relative = String(node2.dataDirectory.dropFirst(c.f.workspace.path.count + 1)) + "/keeld.facts"
        let json = try JSONSerialization.data(withJSONObject: ["nodeID": 2, "stoppedWALReceiverConninfo": conninfo])
        let facts = try c.f.workspace.writeFile(relative, String(decoding: json, as: UTF8.self))
        try node2.psql("ALTER SYSTEM SET primary_conninfo = ''")
        try node2.psql("SELECT pg_reload_conf()")
        try waitFor("node2 detached") { c.query("node1", "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'node2'") == "0" }

        try c.startDaemons()
        try waitFor("WAL receiver restored", timeout: 30) { c.log("node2").contains("WAL receiver restored") }
        try c.waitForStreaming("node2", from: "node1")
        #expect(try node2.psql("SHOW primary_conninfo") == conninfo)
        #expect(!FileManager.default.fileExists(atPath: facts))
        #expect(!c.isPrimary("node2"))
    }
}
