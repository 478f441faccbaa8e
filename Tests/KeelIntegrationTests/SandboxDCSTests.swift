import Foundation
import Testing
import KeelTesting

/// `keel sandbox create --dcs etcd`: a 3-member etcd beside the nodes, stopped with the sandbox.
@Suite("keel sandbox with etcd", .serialized,
       .enabled(if: EtcdCluster.isInstalled, "etcd is not installed (scripts/bootstrap installs Debian's etcd-server): skipped"))
struct SandboxDCSTests {
    /// The pids in the sandbox's etcd pid files.
    static func etcdPIDs(_ cluster: String) -> [Int32] {
        (0..<3).compactMap { i in
            (try? String(contentsOfFile: cluster + "/etcd/m\(i).pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    @Test("create --dcs etcd: etcd runs beside the nodes, node1 holds the leader key, status lists the members; destroy stops them")
    func etcdSandbox() throws {
        let ws = try TestWorkspace(name: "sandboxdcs")
        defer { ws.close() }
        _ = try ws.stageKeelBinaries()
        let cluster = ws.path + "/cluster"
        // Whatever happens, the sandbox is destroyed and no etcd member is left (by the pids it recorded).
        defer {
            _ = try? ws.run("keel", ["sandbox", "destroy", cluster], timeout: 120)
            for pid in Self.etcdPIDs(cluster) where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        let base = try SandboxTests.freeBase(ws)
        let bad = try ws.run("keel", ["sandbox", "create", ws.path + "/other", "--base-port", "\(base)", "--dcs", "consul"])
        #expect(bad.status == 1 && bad.stderr.contains("unsupported store"), "\(bad)")
        let create = try ws.run("keel", ["sandbox", "create", cluster, "--nodes", "2", "--base-port", "\(base)", "--dcs", "etcd"], timeout: 300)
        try #require(create.succeeded, "\(create)")
        try waitFor("node1 holds the leader key (cluster show)", timeout: 30) {
            (try ws.run("keel", ["-f", cluster + "/node1/keel.conf", "cluster", "show"])).stdout
                .contains("Consensus store /keel/sandbox/: leader key held by node 1")
        }
        let status = try ws.run("keel", ["sandbox", "status", cluster])
        #expect(status.succeeded, "\(status)")
        #expect(status.stdout.contains("etcd m2"), "\(status.stdout)")
        let pids = Self.etcdPIDs(cluster)
        #expect(pids.count == 3)
        let destroy = try ws.run("keel", ["sandbox", "destroy", cluster], timeout: 120)
        #expect(destroy.succeeded, "\(destroy)")
        try waitFor("every etcd member stopped", timeout: 15) { pids.allSatisfy { kill($0, 0) != 0 } }
    }
}
