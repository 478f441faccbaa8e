import Foundation
import Testing
import KeelTesting

/// What every scenario of the fault matrix asserts, and the observations it needs.
extension FaultCluster {
    /// `SELECT` on `node` (inside its namespace), empty on error or after `timeout` seconds.
    func query(_ node: String, _ sql: String, timeout: Double = 10) -> String {
        (try? server(node).psql(sql, user: "repmgr", timeout: timeout)) ?? ""
    }

    /// Whether `node`'s server answers and is not in recovery.
    func isPrimary(_ node: String) -> Bool { query(node, "SELECT NOT pg_is_in_recovery()") == "t" }

    /// Waits until exactly one of `candidates` runs as a primary and returns it.
    func waitForNewPrimary(among candidates: [String], timeout: Double = 60) throws -> String {
        var winner: String?
        try waitFor("exactly one primary among \(candidates)", timeout: timeout) {
            let up = candidates.filter { self.isPrimary($0) }
            winner = up.count == 1 ? up[0] : nil
            return winner != nil
        }
        return winner!
    }

    /// Waits until `standby` streams from `primary`.
    func waitForStreaming(_ standby: String, from primary: String, timeout: Double = 60) throws {
        try waitFor("\(standby) streaming from \(primary)", timeout: timeout) {
            self.query(primary, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '\(standby)' AND state = 'streaming'") == "1"
        }
    }

    /// The cluster converged: `primary` is the only primary among the running data nodes and each
    /// of `followers` streams from it.
    func expectConverged(primary: String, followers: [String], timeout: Double = 60) throws {
        for follower in followers { try waitForStreaming(follower, from: primary, timeout: timeout) }
        let primaries = names.filter { isPrimary($0) }
        #expect(primaries == [primary], "exactly one primary, \(primary); running as primary: \(primaries)")
    }

    /// Checks `condition` every 0.2 s for `seconds` seconds and records an issue naming `what` at
    /// the first time it does not hold (an invariant over a window, e.g. "no standby promoted").
    func expectHolds(_ what: String, for seconds: Double, _ condition: () -> Bool) {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while clock.now < end {
            if !condition() {
                Issue.record("\(what) stopped holding")
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Waits until `node` has acknowledged a write after `time` (writer clock); returns when.
    func waitForWrite(by node: String, after time: Double, timeout: Double = 60) throws -> Double {
        var first: Double?
        try waitFor("a write acknowledged by \(node)", timeout: timeout, interval: 0.05) {
            first = SplitBrainChecker(self.writer!.writes).firstAcknowledgement(by: node, after: time)
            return first != nil
        }
        return first!
    }

    /// The checks every scenario ends with: after `deadline` (writer clock) no two nodes
    /// acknowledged writes in overlapping time; every write `survivor` acknowledged is in its
    /// table; keeld on every node exits within 2 s of SIGTERM. Stops the writer first.
    func expectInvariants(survivor: String, fenceDeadline deadline: Double) {
        guard let writer else { Issue.record("no writer was started"); return }
        writer.stop()
        let checker = SplitBrainChecker(writer.writes)
        #expect(checker.overlaps(after: deadline).isEmpty, "two primaries after the fence deadline: \(checker.overlaps(after: deadline))")
        let present = Set(query(survivor, "SELECT v FROM fault_writes", timeout: 30).split(separator: "\n").compactMap { Int64($0) })
        let lost = checker.lost(on: survivor, present: present)
        #expect(!present.isEmpty, "\(survivor) answers and holds the writes")
        #expect(lost.isEmpty, "writes acknowledged by \(survivor) but missing there: \(lost.prefix(10)) (\(lost.count))")
        expectDaemonsAnswerSIGTERM()
    }

    /// keeld on every node exits within 2 s of SIGTERM.
    func expectDaemonsAnswerSIGTERM() {
        let clock = ContinuousClock()
        for (node, daemon) in daemons.sorted(by: { $0.key < $1.key }) where daemon.isRunning {
            let started = clock.now
            daemon.signal(SIGTERM)
            let status = daemon.waitForExit(timeout: 2)
            #expect(status != nil, "keeld on \(node) did not exit within 2 s of SIGTERM")
            if status == nil { daemon.terminate(timeout: 1) } else {
                let took = clock.now - started
                #expect(took <= .seconds(2), "keeld on \(node) took \(took) to exit")
            }
        }
    }

    /// Prints a scenario's figures when `KEEL_FAULT_FIGURES=1` (for `scripts/bench faults`):
    /// one line `fault-figures scenario=N failover_ms=… window_ms=…`.
    func reportFigures(scenario: Int, fault: Double, old: String, new: String) {
        guard ProcessInfo.processInfo.environment["KEEL_FAULT_FIGURES"] == "1", let writer else { return }
        let checker = SplitBrainChecker(writer.writes)
        let first = checker.firstAcknowledgement(by: new, after: fault)
        let window = checker.window(old: old, new: new, after: fault)
        let failover = first.map { String(Int(($0 - fault) * 1000)) } ?? "none"
        let windowText = window.map { String(Int($0 * 1000)) } ?? "none"
        print("fault-figures scenario=\(scenario) failover_ms=\(failover) window_ms=\(windowText)")
    }

    /// The events recorded for `node` on `on` (event names, in order).
    func events(of node: String, on primary: String) -> [String] {
        query(primary, "SELECT event FROM repmgr.events WHERE node_id = \(nodeID(node)) ORDER BY event_timestamp")
            .split(separator: "\n").map(String.init)
    }
}
