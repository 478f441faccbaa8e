import Foundation
import Testing
import KeelTesting

/// Scenarios 9–15 of the fault matrix: keeld itself killed, hooks that hang or fail, the winner
/// lost, a cascaded standby, a full disk, and auto_rejoin.
extension FaultMatrixTests {
    @Test("9a. keeld SIGKILLed on both standbys during the election and restarted: the cluster converges")
    func keeldKilledDuringElection() throws {
        let c = try FaultCluster("s9a")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        try waitFor("node2 starts the election", timeout: 30, interval: 0.05) { c.log("node2").contains("unable to reach upstream") }
        for node in ["node2", "node3"] { try c.killDaemon(node) }
        for node in ["node2", "node3"] { try c.startDaemon(node) }
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("9b. keeld SIGKILLed on the winner during its promote and restarted: the cluster converges")
    func keeldKilledDuringPromote() throws {
        let marker = "promoting-node2"
        let c = try FaultCluster("s9b", extra: ["node3": "priority=50"])
        try c.setPromoteCommand("node2", "touch \(c.workspace.path)/\(marker); sleep 2; exec \(c.workspace.binDirectory)/keel -f \(c.config("node2")) standby promote")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        try waitFor("node2 runs its promote_command", timeout: 30, interval: 0.05) {
            FileManager.default.fileExists(atPath: c.workspace.path + "/" + marker)
        }
        try c.killDaemon("node2")
        try c.startDaemon("node2")
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("10a. a shell validation hook that hangs: no promotion meanwhile, keeld answers SIGTERM, the failover completes once it allows")
    func hangingShellValidation() throws {
        let c = try FaultCluster("s10a", common: "failover_validation_command='touch validating; test -f allow-failover || exec sleep 600'")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        try waitFor("the validation hook runs", timeout: 30) { FileManager.default.fileExists(atPath: c.workspace.path + "/validating") }
        c.expectHolds("no standby promoted while the hook hangs", for: 3) { !c.isPrimary("node2") && !c.isPrimary("node3") }
        for node in ["node2", "node3"] {
            let took = c.terminateDaemon(node, within: 2)
            #expect(took != nil, "keeld on \(node) exits within 2 s of SIGTERM while its validation hook hangs")
        }
        try c.workspace.writeFile("allow-failover", "yes\n")
        for node in ["node2", "node3"] { try c.startDaemon(node) }
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("10b. a Lua validation hook that hangs: cut by lua_hook_timeout and treated as a veto, run again, keeld answers SIGTERM")
    func hangingLuaValidation() throws {
        let c = try FaultCluster("s10b", common: "failover_validation_command='lua:hooks/hang.lua#validate'\nlua_hook_timeout=1")
        try c.workspace.writeFile("hooks/hang.lua", "function validate(ctx)\n  while true do end\nend\n", mode: 0o644)
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        try c.server("node1").kill()
        try waitFor("the hung Lua hook is cut and the validation runs again", timeout: 60) {
            c.log("node2").components(separatedBy: "running failover_validation_command").count - 1 >= 2
        }
        #expect(!c.isPrimary("node2") && !c.isPrimary("node3"), "a hook cut by its deadline vetoes")
        c.expectDaemonsAnswerSIGTERM()
        c.writer?.stop()
        #expect(SplitBrainChecker(w.writes).spans(after: 0).allSatisfy { $0.node == "node1" })
    }

    @Test("11. promote_command fails on the winner: the failure is handled and the cluster converges on another primary")
    func failingPromoteCommand() throws {
        let c = try FaultCluster("s11", extra: ["node3": "priority=50"])
        try c.setPromoteCommand("node2", "false")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 120)
        #expect(winner == "node3", "node2 cannot promote: node3 does")
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)], timeout: 90)
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("12. the winning standby lost between the election and its promote: the other standby is promoted")
    func winnerLostBeforePromote() throws {
        let marker = "promoting-node2"
        let c = try FaultCluster("s12", extra: ["node3": "priority=50"])
        try c.setPromoteCommand("node2", "touch \(c.workspace.path)/\(marker); sleep 3; exec \(c.workspace.binDirectory)/keel -f \(c.config("node2")) standby promote")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        try waitFor("node2 won and is about to promote", timeout: 30, interval: 0.05) {
            FileManager.default.fileExists(atPath: c.workspace.path + "/" + marker)
        }
        c.daemons["node2"]?.signal(SIGKILL)  // keeld and its promote_command: the host is gone
        try c.server("node2").kill()
        let winner = try c.waitForNewPrimary(among: ["node3"], timeout: 90)
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [])
        c.expectInvariants(survivor: winner, fenceDeadline: fault)
    }

    @Test("13. a cascaded standby whose upstream dies follows the primary; no failover")
    func cascadedUpstreamLost() throws {
        let c = try FaultCluster("s13", upstreams: ["node3": "node2"])
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        try c.server("node2").kill()
        try c.waitForStreaming("node3", from: "node1", timeout: 60)
        #expect(!c.isPrimary("node3"))
        _ = try c.waitForWrite(by: "node1", after: w.now)
        c.expectInvariants(survivor: "node1", fenceDeadline: 0)
    }

    @Test("15a. auto_rejoin=on after kill -9: the restarted old primary is fenced and rejoins the new primary by itself")
    func autoRejoinAfterKill() throws {
        let c = try FaultCluster("s15a", common: "auto_rejoin=on")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.server("node1").kill()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.server("node1").start()
        let deadline = w.now + FaultCluster.monitorInterval + 1
        try c.expectConverged(primary: winner, followers: ["node1", Self.other(than: winner)], timeout: 90)
        c.expectInvariants(survivor: winner, fenceDeadline: deadline)
    }

    @Test("15b. auto_rejoin=on after a freeze: the resumed old primary is fenced and rejoins the new primary by itself")
    func autoRejoinAfterFreeze() throws {
        let c = try FaultCluster("s15b", common: "auto_rejoin=on")
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        try c.lab.freeze(c.server("node1"))
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"])
        _ = try c.waitForWrite(by: winner, after: fault)
        c.lab.thawAll()
        let deadline = w.now + FaultCluster.monitorInterval + 1
        try c.expectConverged(primary: winner, followers: ["node1", Self.other(than: winner)], timeout: 90)
        c.expectInvariants(survivor: winner, fenceDeadline: deadline)
    }
}

extension FaultCluster {
    /// SIGKILLs `node`'s keeld alone (by the pid in its pid file: not the hooks it runs) and waits until it is gone.
    func killDaemon(_ node: String) throws {
        let path = workspace.path + "/\(node)-keeld.pid"
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text), pid > 1 else { throw HarnessError.setupFailed("no pid in \(path)") }
        kill(pid, SIGKILL)
        guard daemons[node]?.waitForExit(timeout: 10) != nil else { throw HarnessError.setupFailed("keeld of \(node) survived SIGKILL") }
    }

    /// Sends SIGTERM to `node`'s keeld; how long it took to exit, nil when it had not after `seconds`.
    func terminateDaemon(_ node: String, within seconds: Double) -> Duration? {
        let clock = ContinuousClock()
        let started = clock.now
        daemons[node]?.signal(SIGTERM)
        guard daemons[node]?.waitForExit(timeout: seconds) != nil else {
            daemons[node]?.terminate(timeout: 1)
            return nil
        }
        return clock.now - started
    }

    /// Sets `node`'s promote_command to a shell command line (appended: the later setting wins).
    func setPromoteCommand(_ node: String, _ command: String) throws {
        let text = try String(contentsOfFile: config(node), encoding: .utf8)
        let quoted = command.replacingOccurrences(of: "'", with: "\\'")
        try workspace.writeFile("\(node).conf", text + "promote_command='\(quoted)'\n")
    }
}
