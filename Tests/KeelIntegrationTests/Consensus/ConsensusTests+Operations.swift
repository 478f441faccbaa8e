import Foundation
import Testing
import KeelTesting

extension ConsensusTests {
    @Test("etcd's Raft leader killed while a standby waits for the lost primary's lease: still exactly one winner, holding the key")
    func etcdLeaderKilledDuringFailover() throws {
        let etcd = try EtcdCluster("raftkill")
        let c = try Self.cluster("dcsraft", etcd: etcd)
        try Self.start(c, etcd)
        try c.server("node1").kill()
        try waitFor("a standby waits for the key", timeout: 30) {
            (c.log("node2") + c.log("node3")).contains("leader key not won yet")
        }
        let leader = try #require(etcd.leaderIndex(), "etcd has a leader")
        etcd.kill(leader)
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        let loser = winner == "node2" ? "node3" : "node2"
        #expect(etcd.value(Self.leaderKey) == Self.id(winner))
        try c.waitForStreaming(loser, from: winner)
        #expect(!c.isPrimary(loser))
    }

    @Test("switchover with dcs: the promotion takes the key over in one transaction, the new primary holds it without waiting for the TTL")
    func switchoverMovesKey() throws {
        let etcd = try EtcdCluster("switchover")
        let c = try Self.cluster("dcsswitch", etcd: etcd, common: TopologyTests.pgCtl)
        try Self.start(c, etcd)
        let sw = try c.f.keel("-f", c.f.config("node2"), "standby", "switchover", "--siblings-follow")
        #expect(sw.succeeded, "\(sw)")
        let clock = ContinuousClock()
        let switched = clock.now
        try waitFor("node2 holds the key", timeout: 30) { etcd.value(Self.leaderKey) == "2" }
        let moved = clock.now - switched
        print("consensus figure: leader key on the new primary \(moved) after the switchover returned (dcs_ttl=\(Self.ttl))")
        #expect(moved < .seconds(Self.ttl), "no wait for node1's lease: \(moved)")
        #expect(c.isPrimary("node2"))
        try c.waitForStreaming("node1", from: "node2")
        #expect(!c.log("node2").contains("fencing node"), "the new primary was not fenced")
        #expect((sw.stdout + sw.stderr).contains("taken over from node 1"), "the promotion moved the key in one transaction: \(sw)")
    }
}
