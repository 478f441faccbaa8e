import Foundation
import Testing
import KeelTesting

/// Scenario 14 of the fault matrix: the primary's WAL disk fills up.
extension FaultMatrixTests {
    @Test("14. the primary's pg_wal disk full (a small tmpfs): keeld notices the local loss and reports it, a standby is promoted")
    func walDiskFull() throws {
        let c = try FaultCluster("s14")
        let wal = try c.moveWALToTmpfs("node1", megabytes: 64)
        defer { c.close(); wal.unmount() }
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        let fault = w.now
        // Far more WAL than the disk holds, faster than checkpoints can recycle it.
        _ = try? c.server("node1").psql("CREATE TABLE filler AS SELECT repeat(md5(g::text), 32) AS x FROM generate_series(1, 400000) g",
                                        user: "repmgr", timeout: 120)
        try waitFor("node1's server failed on the full disk", timeout: 60) {
            c.server("node1").log().contains("No space left on device")
        }
        try waitFor("keeld on node1 reports the local server lost", timeout: 30) {
            c.log("node1").contains("unable to connect to local")
        }
        let winner = try c.waitForNewPrimary(among: ["node2", "node3"], timeout: 90)
        _ = try c.waitForWrite(by: winner, after: fault)
        try c.expectConverged(primary: winner, followers: [Self.other(than: winner)])
        c.expectInvariants(survivor: winner, fenceDeadline: w.now)
    }
}

extension FaultCluster {
    /// Stops `node`'s server, moves its `pg_wal` onto a tmpfs of `megabytes` MB (outside the
    /// workspace), lowers the WAL kept (`wal_keep_size=0`, `max_wal_size=32MB`) and starts it again.
    func moveWALToTmpfs(_ node: String, megabytes: Int) throws -> TmpfsMount {
        let server = server(node)
        try server.stop(mode: "fast")
        let mount = try TmpfsMount(path: "/tmp/keel-wal-\(lab.bridge)", megabytes: megabytes, owner: workspace.serverUser)
        do {
            try mount.adopt(directory: server.dataDirectory + "/pg_wal")
            try server.appendConfiguration("wal_keep_size = 0\nmax_wal_size = '32MB'\nmin_wal_size = '32MB'")
            try server.start()
        } catch {
            mount.unmount()
            throw error
        }
        return mount
    }
}
