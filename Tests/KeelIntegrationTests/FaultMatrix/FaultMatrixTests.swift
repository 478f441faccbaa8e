import Foundation
import Testing
import KeelTesting

/// The fault matrix: real PostgreSQL and keeld on every node, each node in its own network
/// namespace, a writer recording every acknowledged INSERT. Every scenario asserts that after
/// its fence deadline no two nodes acknowledged writes in overlapping time, that the cluster
/// converged to one primary with the others following (where a primary is left), that every
/// write the surviving primary acknowledged is still there, and that keeld on every node exits
/// within 2 s of SIGTERM. Times are on the writer's clock (seconds).
@Suite("FaultMatrixTests: keeld under partitions, frozen hosts and returning primaries", .serialized,
       .enabled(if: NetworkLab.unsupportedReason == nil,
                "the fault matrix needs root, iproute2 and nftables (network namespaces): \(NetworkLab.unsupportedReason ?? "")"))
struct FaultMatrixTests {
    static func other(than winner: String) -> String { winner == "node2" ? "node3" : "node2" }

    @Test("1. kill -9 of the primary: a standby is promoted, the other follows, no acknowledged write is lost")
    func killPrimary() throws {
        let c = try FaultCluster("s1")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        defer { c.reportFigures(scenario: 1, fault: fault, old: "node1", new: winner) }
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("2. the primary frozen (SIGSTOP), failed over, then resumed: it is fenced within one monitor interval and never followed")
    func frozenPrimary() throws {
        let c = try FaultCluster("s2")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.lab.freeze(c.server("node1"))
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        defer { c.reportFigures(scenario: 2, fault: fault, old: "node1", new: winner) }
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.lab.thawAll()
        let deadline = w.now + FaultCluster.monitorInterval + 1
        try expectFenced("node1", winner: winner, deadline: deadline, in: c)
        c.expectInvariants(survivor: winner, fenceDeadline: deadline)
    }

    @Test("3. the old primary restarted by hand after a failover, twice: fenced each time, flagged by cluster show on every node")
    func restartedOldPrimary() throws {
        let c = try FaultCluster("s3")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        var deadline = 0.0
        for round in 1...2 {
            if c.server("node1").postmasterPID != nil { try c.server("node1").kill() }
            // Restarted as the primary it was (a standby.signal left by a demotion removed, as a restore would).
            try? FileManager.default.removeItem(atPath: c.server("node1").dataDirectory + "/standby.signal")
            try c.server("node1").start()
            deadline = w.now + FaultCluster.monitorInterval + 1
            try waitFor("node_fenced recorded for node1 \(round) time(s)", timeout: 20) {
                c.events(of: "node1", on: winner).filter { $0 == "node_fenced" }.count >= round
            }
            try expectFenced("node1", winner: winner, deadline: deadline, in: c)
            for node in c.names {
                let show = try c.keel(node, "cluster", "show")
                let row = show.stdout.split(separator: "\n").first { $0.contains("node1") } ?? ""
                #expect(row.contains("! running"), "cluster show on \(node) flags node1 (round \(round)): \(show.stdout)")
                #expect(show.combinedOutput.contains("WARNING"), "cluster show on \(node) warns about node1: \(show.combinedOutput)")
            }
        }
        c.expectInvariants(survivor: winner, fenceDeadline: deadline)
    }

    @Test("4. the primary cut off from every standby and the witness while clients still reach it: it fences itself before a standby is promoted")
    func isolatedPrimary() throws {
        let c = try FaultCluster("s4")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.lab.cutAll(from: "node1")
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        defer { c.reportFigures(scenario: 4, fault: fault, old: "node1", new: winner) }
        let first = try c.waitForWrite(by: winner, after: fault)
        let checker = SplitBrainChecker(w.writes)
        let last = checker.lastAcknowledgement(by: "node1") ?? 0
        #expect(last < first, "node1 acknowledged a write at \(last) s, after \(winner)'s first at \(first) s (window \(Int((last - first) * 1000)) ms)")
        #expect(!c.isPrimary("node1"), "the isolated node1 is fenced (not a writable primary)")
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        try c.lab.heal()
        c.expectHolds("node1 stays fenced and is not followed after the partition heals", for: 3) {
            !c.isPrimary("node1") && c.query(winner, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '\(Self.other(than: winner))'") == "1"
        }
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    /// The standbys see each other and the witness: 3 of the 3 nodes sharing the primary, a quorum, so they
    /// elect (as repmgr's election does; a witness does not side with the primary unless it is the only link
    /// to its location). The primary, seeing only the witness, finds that the nodes it cannot see could elect
    /// without it and fences itself first — where repmgr leaves two primaries.
    @Test("5. the primary cut off from the standbys but not from the witness: the standbys elect, the old primary fences itself first")
    func primaryCutFromStandbys() throws {
        let c = try FaultCluster("s5")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.lab.cut("node1", "node2")
        try c.lab.cut("node1", "node3")
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        let first = try c.waitForWrite(by: winner, after: fault)
        let last = SplitBrainChecker(w.writes).lastAcknowledgement(by: "node1") ?? 0
        #expect(last < first, "node1 acknowledged a write at \(last) s, after \(winner)'s first at \(first) s")
        #expect(!c.isPrimary("node1"), "node1, seeing only the witness, is fenced")
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        try c.lab.heal()
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("6. one standby cut off from the primary only: no failover")
    func standbyCutFromPrimary() throws {
        let c = try FaultCluster("s6")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        try c.lab.cut("node1", "node2")
        try expectPrimaryKeeps("node1", standbys: ["node2", "node3"], for: FaultCluster.detectionWindow + 5, in: c)
        try c.lab.heal()
        try c.expectConverged(primary: "node1", followers: ["node2", "node3"])
        _ = try c.waitForWrite(by: "node1", after: w.now)
        c.expectInvariants(survivor: "node1", fenceDeadline: 0)
    }

    @Test("7. locations split with the witness on the primary's side: no failover on the other side, the primary keeps taking writes")
    func locationSplit() throws {
        let c = try FaultCluster("s7", locations: ["node1": "dc1", "witness": "dc1", "node2": "dc2", "node3": "dc2"])
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        try c.lab.split(["node1", "witness"])
        try expectPrimaryKeeps("node1", standbys: ["node2", "node3"], for: FaultCluster.detectionWindow + 5, in: c)
        try c.lab.heal()
        try c.expectConverged(primary: "node1", followers: ["node2", "node3"])
        _ = try c.waitForWrite(by: "node1", after: w.now)
        c.expectInvariants(survivor: "node1", fenceDeadline: 0)
    }

    @Test("8. the witness down, then the primary lost: the standbys still fail over")
    func witnessThenPrimary() throws {
        let c = try FaultCluster("s8")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        c.daemons["witness"]?.terminate(timeout: 5)
        try c.server("witness").kill()
        let fault = w.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    // MARK: - Shared checks

    /// `node` (a former primary back after a failover) is fenced: by `deadline` it acknowledges no
    /// write, runs not as a primary, is followed by no standby, and it stays so for two seconds.
    func expectFenced(_ node: String, winner: String, deadline: Double, in c: FaultCluster) throws {
        let w = c.writer!
        try waitFor("\(node) no longer a writable primary", timeout: max(1, deadline - w.now) + 10) { !c.isPrimary(node) }
        c.expectHolds("\(node) fenced: no write acknowledged after the deadline, not a primary, not followed", for: 2) {
            let late = SplitBrainChecker(w.writes).spans(after: deadline).contains { $0.node == node }
            return !late && !c.isPrimary(node) && ["", "0"].contains(c.query(node, "SELECT count(*) FROM pg_stat_replication"))
        }
        #expect(SplitBrainChecker(w.writes).spans(after: deadline).allSatisfy { $0.node != node },
                "\(node) acknowledged writes after the fence deadline \(deadline) s")
    }

    /// For `seconds`, `primary` stays the only primary and keeps acknowledging writes.
    func expectPrimaryKeeps(_ primary: String, standbys: [String], for seconds: Double, in c: FaultCluster) throws {
        let w = c.writer!
        c.expectHolds("\(primary) is the only primary and takes writes", for: seconds) {
            let recent = (SplitBrainChecker(w.writes).lastAcknowledgement(by: primary) ?? -10) > w.now - 1.5
            return recent && c.isPrimary(primary) && standbys.allSatisfy { !c.isPrimary($0) }
        }
    }
}
