import Foundation
import Testing
import KeelTesting

/// Scenario 14 of the fault matrix: the primary's WAL disk fills up.
extension FaultMatrixTests {
    @Test("14. the primary's pg_wal disk full (a small tmpfs): the server PANICs; keeld notices and reports the local loss; one writable primary after, the others following")
    func walDiskFull() throws {
        // Slots keep the WAL the standbys still need although wal_keep_size is 0 on the small disk.
        let c = try FaultCluster("s14", common: "use_replication_slots=true")
        let wal = try c.moveWALToTmpfs("node1", megabytes: 96)
        defer { c.close(); wal.unmount() }
        try c.startDaemons()
        let w = c.startWriter()
        _ = try c.waitForWrite(by: "node1", after: 0)
        // Far more WAL than the disk holds, in one transaction.
        _ = try? c.server("node1").psql("CREATE TABLE filler AS SELECT repeat(md5(g::text), 32) AS x FROM generate_series(1, 400000) g",
                                        user: "repmgr", timeout: 120)
        try waitFor("node1's server PANICs on the full disk", timeout: 60) {
            c.server("node1").log().contains("No space left on device")
        }
        let panicked = w.now
        try waitFor("keeld on node1 reports the local server lost", timeout: 30) { c.log("node1").contains("unable to connect to local") }
        // PostgreSQL either recovers (the failed transaction's WAL is freed) or stops when its end-of-recovery
        // checkpoint finds no space either: then the standbys fail over. Either way, one writable primary.
        let primary = try c.waitForNewPrimary(among: c.names, timeout: 90)
        _ = try c.waitForWrite(by: primary, after: panicked)
        let followers = c.names.filter { $0 != primary && c.server($0).postmasterPID != nil }
        try c.expectConverged(primary: primary, followers: followers)
        c.expectInvariants(survivor: primary, fenceDeadline: panicked)
    }
}

extension FaultCluster {
    /// Stops `node`'s server, moves its `pg_wal` onto a tmpfs of `megabytes` MB (outside the
    /// workspace), lowers the WAL kept (`wal_keep_size=0`, `max_wal_size=32MB`) and starts it again.
    func moveWALToTmpfs(_ node: String, megabytes: Int) throws -> TmpfsMount {
        let server = server(node)
        try server.appendConfiguration("wal_keep_size = 0\nmax_wal_size = '32MB'\nmin_wal_size = '32MB'")
        _ = try server.psql("SELECT pg_reload_conf()")
        _ = try server.psql("CHECKPOINT")
        try server.stop(mode: "fast")
        let mount = try TmpfsMount(path: "/tmp/keel-wal-\(lab.bridge)", megabytes: megabytes, owner: workspace.serverUser)
        do {
            try mount.adopt(directory: server.dataDirectory + "/pg_wal")
            try server.start()
        } catch {
            mount.unmount()
            throw error
        }
        return mount
    }
}
