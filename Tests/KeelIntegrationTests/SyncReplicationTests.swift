import Foundation
import Testing
import KeelTesting

/// `synchronous_mode` on real PostgreSQL with running keelds: a writer records every acknowledged commit
/// while the primary is killed with SIGKILL, round after round (the old primary rejoins with pg_rewind
/// between rounds, so every round fails over from a different node).
@Suite("synchronous replication on real PostgreSQL", .serialized)
struct SyncReplicationTests {
    static let rounds = 10

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
            let killed = clock.now
            try c.server(primary).kill()
            let others = c.names.filter { $0 != primary }
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
            }
            try rejoin(c, node: primary, to: winner)
            for node in others where node != winner { try c.waitForStreaming(node, from: winner) }
            primary = winner
            if sync { try waitForQuorum(c, primary: primary) }
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
