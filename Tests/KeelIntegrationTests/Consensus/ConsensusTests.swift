import Foundation
import Testing
import KeelTesting

/// The optional consensus store on a real 3-member etcd and a real 3-node PostgreSQL cluster (a primary,
/// two standbys, keeld on each, monitor 1 s, `dcs_ttl=8`): at most one node promoted per lease, the primary
/// fenced when it cannot renew, no promotion while etcd is down.
@Suite("consensus store (etcd) on real etcd and PostgreSQL", .serialized,
       .enabled(if: EtcdCluster.isInstalled, "etcd is not installed (scripts/bootstrap installs Debian's etcd-server): skipped"))
struct ConsensusTests {
    static let ttl = 8
    static let leaderKey = "/keel/keel/leader"

    static func cluster(_ name: String, etcd: EtcdCluster, extra: [String: String] = [:], common: String = "") throws -> FailoverCluster {
        try FailoverCluster(name, standbys: 2, witness: false, extra: extra,
                            common: "dcs='\(etcd.dcs)'\ndcs_ttl=\(ttl)\n" + common)
    }

    /// Starts the daemons, waits until node1 holds the leader key and every member is published.
    static func start(_ c: FailoverCluster, _ etcd: EtcdCluster) throws {
        try c.startDaemons()
        try waitFor("node1 holds the leader key", timeout: 30) { etcd.value(leaderKey) == "1" }
        try waitFor("3 members published", timeout: 30) { (try? etcd.store().list(prefix: "/keel/keel/members/").count) == 3 }
        try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        // Replication is asynchronous: a kill right after the INSERT could lose the row on the standbys.
        for standby in ["node2", "node3"] {
            try waitFor("the row replayed on \(standby)", timeout: 30) { c.query(standby, "SELECT count(*) FROM t") == "1" }
        }
    }

    static func id(_ node: String) -> String { String(node.dropFirst("node".count)) }

    @Test("kill -9 of the primary: exactly one standby promotes, only after the lease expired, and holds the key; the other follows")
    func killPrimary() throws {
        let etcd = try EtcdCluster("kill")
        let c = try Self.cluster("dcskill", etcd: etcd)
        try Self.start(c, etcd)
        let clock = ContinuousClock()
        let killed = clock.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        let elapsed = clock.now - killed
        print("consensus figure: kill -9 of the primary to a new primary with dcs_ttl=\(Self.ttl), monitor 1 s: \(elapsed)")
        let loser = winner == "node2" ? "node3" : "node2"
        #expect(etcd.value(Self.leaderKey) == Self.id(winner))
        #expect(elapsed > .seconds(Self.ttl - 2), "promoted only once node1's lease (renewed every second) expired: \(elapsed)")
        #expect(c.log(winner).contains("leader key not won yet (heldBy(nodeID: 1))"), "it waited for the lease")
        #expect(c.log(winner).contains("won the leader key"))
        try c.waitForStreaming(loser, from: winner)
        #expect(!c.isPrimary(loser))
        try waitFor("row on the new primary") { c.query(winner, "SELECT count(*) FROM t") == "1" }
        let show = try c.f.keel("-f", c.f.config(loser), "cluster", "show")
        #expect(show.stdout.contains("Consensus store /keel/keel/: leader key held by node \(Self.id(winner))"), "\(show.stdout)")
        #expect(show.stdout.contains(" \(winner) | primary "), "the winner's published status: \(show.stdout)")
    }

    @Test("the primary cut off from etcd only (silent drops): it fences within dcs_ttl, a standby promotes and holds the key, the old primary acknowledges no write after the new one's first")
    func primaryCutOffFromEtcd() throws {
        let etcd = try EtcdCluster("cut")
        let proxies = try etcd.members.map { try DroppingProxy(targetPort: $0.clientPort) }
        defer { proxies.forEach { $0.stop() } }
        let viaProxies = "etcd:" + proxies.map { "http://127.0.0.1:\($0.port)" }.joined(separator: ",")
        let c = try Self.cluster("dcscut", etcd: etcd, extra: ["node1": "dcs='\(viaProxies)'"])
        try Self.start(c, etcd)
        try c.server("node1").psql(Writer.createTableSQL)
        let writer = Writer(targets: Dictionary(uniqueKeysWithValues: c.names.map { node in
            (node, "host=127.0.0.1 port=\(c.server(node).port) user=repmgr dbname=repmgr connect_timeout=1")
        }))
        writer.start()
        defer { writer.stop() }
        try waitFor("node1 acknowledges the writer's INSERTs") { writer.writes.contains { $0.node == "node1" } }
        let clock = ContinuousClock()
        let cut = clock.now
        let cutAt = writer.now
        for proxy in proxies { proxy.dropping = true }
        try waitFor("node1 fenced", timeout: 60) { c.query("node1", "SELECT pg_is_in_recovery()") == "t" }
        let fenced = clock.now - cut
        print("consensus figure: primary cut off from etcd, fenced (in recovery) after \(fenced) (dcs_ttl=\(Self.ttl))")
        #expect(fenced < .seconds(Self.ttl), "fenced before its lease can expire: \(fenced)")
        #expect(!FencingTests.writeAcknowledged(c, "node1"), "a fenced node acknowledges no write")
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        #expect(etcd.value(Self.leaderKey) == Self.id(winner))
        #expect(c.log("node1").contains("the leader lease could not be renewed"))
        try waitFor("the new primary acknowledges the writer's INSERTs", timeout: 30) {
            writer.writes.contains { $0.node == winner && $0.acknowledged > cutAt }
        }
        writer.stop()
        let judge = SplitBrainChecker(writer.writes)
        let last = judge.lastAcknowledgement(by: "node1").map { String(format: "%.2f", $0 - cutAt) } ?? "-"
        let first = judge.firstAcknowledgement(by: winner, after: cutAt).map { String(format: "%.2f", $0 - cutAt) } ?? "-"
        print("consensus figure: after the cut, node1's last acknowledged write at +\(last) s, \(winner)'s first at +\(first) s")
        #expect(judge.overlaps(after: cutAt).isEmpty, "two primaries took writes at once: \(judge.overlaps(after: cutAt))")
        #expect(judge.window(old: "node1", new: winner, after: cutAt) == 0,
                "node1 acknowledged no write after the new primary's first")
        #expect(c.query("node1", "SELECT pg_is_in_recovery()") == "t", "still fenced: it cannot win the key")
    }

    @Test("etcd entirely down: the primary fences after the TTL and no standby promotes; etcd back: the cluster resumes with one primary holding the key")
    func etcdDown() throws {
        let etcd = try EtcdCluster("down")
        let c = try Self.cluster("dcsdown", etcd: etcd)
        try Self.start(c, etcd)
        etcd.killAll()
        try waitFor("node1 fenced", timeout: 60) { c.query("node1", "SELECT pg_is_in_recovery()") == "t" }
        try waitFor("a standby refuses to promote without the key", timeout: 90) {
            (c.log("node2") + c.log("node3")).contains("not promoting: the consensus store could not be reached")
        }
        for node in c.names { #expect(!c.isPrimary(node), "\(node) must not run as primary while etcd is down") }
        for i in etcd.members.indices { try etcd.start(i) }
        try etcd.waitUntilWritable()
        var primary: String?
        try waitFor("one primary again, holding the key", timeout: 90) {
            let up = c.names.filter { c.isPrimary($0) }
            primary = up.count == 1 ? up[0] : nil
            return primary.map { etcd.value(Self.leaderKey) == Self.id($0) } ?? false
        }
        print("consensus: after etcd came back, \(primary ?? "?") is primary and holds the key")
    }

    @Test("etcd entirely down with dcs_failsafe=on: the primary keeps running while it sees every standby")
    func failsafe() throws {
        let etcd = try EtcdCluster("failsafe")
        let c = try Self.cluster("dcsfailsafe", etcd: etcd, common: "dcs_failsafe=on")
        try Self.start(c, etcd)
        etcd.killAll()
        try waitFor("node1 keeps running on dcs_failsafe", timeout: 60) {
            c.log("node1").contains("dcs_failsafe: the consensus store is lost but every standby is seen")
        }
        #expect(c.isPrimary("node1"))
        #expect(FencingTests.writeAcknowledged(c, "node1"), "the failsafe primary still takes writes")
        #expect(!c.log("node1").contains("fencing node"))
    }
}
