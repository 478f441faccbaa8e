import Foundation
import Testing
import KeelTesting

/// keeld with a frozen primary (postmaster and its children stopped with SIGSTOP): the kernel still
/// accepts connections, nothing answers. The standbys must fail over in about the window of a crash,
/// and stay responsive.
@Suite("keeld with a frozen primary", .serialized)
struct FrozenPrimaryTests {
    @Test("SIGSTOP of the primary: a standby is promoted within the crash window plus the deadlines, the other follows; the old primary's keeld ends its silent server and starts it in recovery; every keeld stops on SIGTERM within 2 s")
    func frozenPrimary() throws {
        let c = try FailoverCluster("frozen", standbys: 2, witness: true, common: "connection_check_type=query")
        try c.startDaemons()
        try c.waitForStreaming("node2", from: "node1")
        try c.waitForStreaming("node3", from: "node1")
        try waitFor("standbys monitoring", timeout: 30) { c.log("node2").contains("is reachable") && c.log("node3").contains("is reachable") }
        let postmaster = try #require(c.server("node1").postmasterPID)
        let frozen = FrozenTree(root: postmaster)
        defer { frozen.thaw() }
        let clock = ContinuousClock()
        let started = clock.now
        frozen.freeze()
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 30)
        let took = clock.now - started
        // Crash window: (reconnect_attempts - 1) × reconnect_interval = 1 s, plus up to one check
        // interval and the deadlines (1 s connect, 1.5 s query), plus the promotion.
        #expect(took < .seconds(10), "failover took \(took)")
        print("frozen primary: new primary \(winner) after \(took)")
        let other = winner == "node2" ? "node3" : "node2"
        try c.waitForStreaming(other, from: winner)
        // The old primary's keeld ended its silent server (SIGKILL works on stopped processes) and persisted
        // the fence, so nothing the frozen server held can be acknowledged when it would have resumed.
        try waitFor("old primary's server ended by its keeld", timeout: 30) { c.log("node1").contains("ended (SIGKILL)") }
        try waitFor("the frozen postmaster \(postmaster) gone", timeout: 10) { kill(postmaster, 0) != 0 }
        let fence = try String(contentsOfFile: c.server("node1").dataDirectory + "/keel.fence", encoding: .utf8)
        #expect(fence.contains("\"silent\""), "fence file: \(fence)")
        frozen.thaw()
        // fence_action=demote: it runs again, in recovery, and takes no writes.
        try waitFor("old primary back in recovery", timeout: 60) { c.query("node1", "SELECT pg_is_in_recovery()") == "t" }
        #expect(!c.isPrimary("node1"))
        for node in ["node1", "node2", "node3", "witness"] {
            let stopped = c.terminateDaemon(node, timeout: 5)
            #expect(stopped != nil && stopped! < .seconds(2), "keeld on \(node) took \(String(describing: stopped)) to stop")
        }
    }

    @Test("a crashed primary started again (as node rejoin does) is left to start by its keeld: a new postmaster that does not answer yet is never ended as a silent server")
    func restartedOldPrimaryIsNotSilent() throws {
        let c = try FailoverCluster("restarted", standbys: 2, witness: true)
        try c.startDaemons()
        try c.waitForStreaming("node2", from: "node1")
        try c.waitForStreaming("node3", from: "node1")
        try waitFor("node1's keeld monitoring its primary", timeout: 30) { c.log("node1").contains("monitoring cluster primary") }
        let node1 = c.server("node1")
        try node1.kill()
        _ = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 30)
        try waitFor("node1's keeld reconnecting", timeout: 30) { c.log("node1").contains("unable to connect to local") }
        // Started in recovery without TCP: its lock file names a live postmaster that never answers keeld,
        // as a server does between writing postmaster.pid and listening (the window `node rejoin` hit).
        #expect(FileManager.default.createFile(atPath: node1.dataDirectory + "/standby.signal", contents: Data()))
        try node1.appendConfiguration("listen_addresses = ''")
        try node1.start()
        let postmaster = try #require(node1.postmasterPID)
        try waitFor("node1's keeld seeing the new postmaster \(postmaster)", timeout: 30) {
            c.log("node1").contains("postmaster pid \(postmaster) started after the local server last answered")
        }
        #expect(kill(postmaster, 0) == 0, "the restarted postmaster \(postmaster) was ended")
        #expect(!c.log("node1").contains("ended (SIGKILL)"))
        #expect(!FileManager.default.fileExists(atPath: node1.dataDirectory + "/keel.fence"))
    }
}
