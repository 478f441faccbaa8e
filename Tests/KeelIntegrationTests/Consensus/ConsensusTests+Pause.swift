import Foundation
import Testing
import KeelTesting

extension ConsensusTests {
    static let pausePrefix = "/keel/keel/paused/"

    /// The paused column (1/0) of each node in `service status --csv` run on `node`.
    static func pausedColumn(_ c: FailoverCluster, on node: String) throws -> [String: String] {
        let status = try c.f.keel("-f", c.f.config(node), "service", "status", "--csv")
        var result: [String: String] = [:]
        for line in status.stdout.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count > 6 { result[fields[1]] = fields[6] }
        }
        return result
    }

    @Test("service pause with the primary down writes etcd only: the standbys' keelds pause and none promotes past the detection window and the lease; unpause lets the failover happen")
    func pauseWithPrimaryDown() throws {
        let etcd = try EtcdCluster("pause")
        // 8 reconnect attempts, 1 s apart: the window in which the pause is given after the kill.
        let attempts = 8
        let c = try Self.cluster("dcspause", etcd: etcd, common: "reconnect_attempts=\(attempts)")
        try Self.start(c, etcd)
        let clock = ContinuousClock()
        let killed = clock.now
        try c.server("node1").kill()
        let pause = try c.f.keel("-f", c.f.config("node2"), "service", "pause")
        print("consensus figure: service pause with the primary down returned after \(clock.now - killed)")
        #expect(pause.status == 0, "\(pause)")
        #expect((pause.stdout + pause.stderr).contains("written to etcd only"), "\(pause)")
        for id in ["1", "2", "3"] { #expect(etcd.value(Self.pausePrefix + id) == "paused") }
        for node in ["node2", "node3"] {
            try waitFor("\(node)'s keeld paused", timeout: 30) { c.log(node).contains("PAUSE: automatic failover paused") }
        }
        #expect(try Self.pausedColumn(c, on: "node3") == ["node1": "1", "node2": "1", "node3": "1"])
        // Past the detection window and node1's lease (when an unpaused standby would have promoted), polled.
        let quiet = killed + .seconds(attempts + Self.ttl + 6)
        while clock.now < quiet {
            for node in ["node2", "node3"] { try #require(!c.isPrimary(node), "\(node) promoted while paused") }
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(etcd.value(Self.leaderKey) == nil, "node1's lease expired: nothing but the pause held the failover back")
        for node in ["node2", "node3"] {
            #expect(c.log(node).contains("still unreachable; no failover while paused"), "\(node) kept monitoring")
        }
        let unpause = try c.f.keel("-f", c.f.config("node3"), "service", "unpause")
        #expect(unpause.status == 0, "\(unpause)")
        #expect(etcd.value(Self.pausePrefix + "2") == "unpaused")
        let unpaused = clock.now
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        print("consensus figure: unpause with the primary down to a new primary: \(clock.now - unpaused)")
        #expect(etcd.value(Self.leaderKey) == Self.id(winner))
        #expect(c.log(winner).contains("monitoring resumed (unpaused)"))
        try c.waitForStreaming(winner == "node2" ? "node3" : "node2", from: winner)
        etcd.killAll()
        let refused = try c.f.keel("-f", c.f.config(winner), "service", "pause")
        #expect(refused.status == 26, "etcd down: the pause is not in force everywhere: \(refused)")
        let text = refused.stdout + refused.stderr
        #expect(text.contains("unable to write the pause state to etcd") && text.contains(etcd.endpoints[0]), "names etcd and the endpoint: \(refused)")
    }
}
