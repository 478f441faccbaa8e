import Foundation
import Testing
import KeelTesting

/// The demo's path as a test: `keel sandbox create` (primary, two standbys, witness, Lua hooks, keelds),
/// the failover drill playbook, the rejoin playbook, `keel sandbox destroy` — and nothing left running.
@Suite("keel sandbox and the demo's path", .serialized)
struct SandboxTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Copies `relative` (a file of the repository) into the workspace, owned by the server user.
    static func stage(_ ws: TestWorkspace, _ relative: String) throws -> String {
        try ws.writeFile(relative, try String(contentsOf: repo.appendingPathComponent(relative), encoding: .utf8), mode: 0o644)
    }

    /// A base port with four free ports after it.
    static func freeBase(_ ws: TestWorkspace) throws -> Int {
        for _ in 0..<50 {
            let base = try ws.freePort()
            guard base < 65000 else { continue }
            let free = (1...3).allSatisfy { offset in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(base + offset).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                return withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
            }
            if free { return base }
        }
        throw HarnessError.setupFailed("no four consecutive free ports")
    }

    @Test("create, failover drill, rejoin, destroy: exactly one primary after the drill, the old primary streams again, nothing left running")
    func demoPath() throws {
        let ws = try TestWorkspace(name: "sandbox")
        defer { ws.close() }
        _ = try ws.stageKeelBinaries()
        for file in ["failover_validation.lua", "notify.lua", "promote.lua", "follow.lua"] { _ = try Self.stage(ws, "hooks/" + file) }
        let drill = try Self.stage(ws, "scripts/playbooks/failover-drill.lua")
        let rejoin = try Self.stage(ws, "scripts/playbooks/rejoin.lua")
        let env = ["KEEL_HOOKS_DIR": ws.path + "/hooks"]
        let cluster = ws.path + "/cluster"
        let base = try Self.freeBase(ws)

        // An occupied port and a non-empty directory are refused, nothing created.
        try ws.writeFile("occupied/file", "x")
        let refused = try ws.run("keel", ["sandbox", "create", ws.path + "/occupied", "--base-port", "\(base)",
                                          "--pg-bindir", ws.postgresBinDirectory], environment: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))

        // The binaries of this run (`KEEL_PG_BINDIR`: PostgreSQL 15 or 18), as an operator passes them.
        let create = try ws.run("keel", ["sandbox", "create", cluster, "--nodes", "3", "--witness", "--lua-hooks", "--base-port", "\(base)",
                                         "--pg-bindir", ws.postgresBinDirectory], environment: env, timeout: 300)
        try #require(create.succeeded, "\(create)")
        let status = try ws.run("keel", ["sandbox", "status", cluster])
        #expect(status.succeeded, "\(status)")
        let node1 = ws.server(name: "node1", port: base, dataDirectory: cluster + "/node1/data", host: cluster + "/node1")
        try node1.psql("CREATE TABLE demo (id int); INSERT INTO demo SELECT generate_series(1, 100)")

        let drillRun = try ws.run("keel", ["-f", cluster + "/node2/keel.conf", "run", drill, "sandbox=true", "--yes"], environment: env, timeout: 300)
        #expect(drillRun.succeeded, "\(drillRun)")
        let servers = (0..<3).map { ws.server(name: "node\($0 + 1)", port: base + $0, dataDirectory: cluster + "/node\($0 + 1)/data",
                                              host: cluster + "/node\($0 + 1)") }
        let primaries = servers.dropFirst().filter { (try? $0.psql("SELECT NOT pg_is_in_recovery()")) == "t" }
        #expect(primaries.count == 1)
        let events = (try? String(contentsOfFile: cluster + "/events.jsonl", encoding: .utf8)) ?? ""
        #expect(events.contains("repmgrd_failover_promote"), "the Lua event hook wrote the promotion")

        let rejoinRun = try ws.run("keel", ["-f", cluster + "/node2/keel.conf", "run", rejoin, "node=1", "--yes"], environment: env, timeout: 300)
        #expect(rejoinRun.succeeded, "\(rejoinRun)")
        try waitFor("node1 is a standby again", timeout: 60) { (try? node1.psql("SELECT pg_is_in_recovery()")) == "t" }
        try waitFor("node1 has every row", timeout: 60) { (try? node1.psql("SELECT count(*) FROM demo")) == "100" }

        // Every process the sandbox runs, by pid file, to check after destroy.
        let pidFiles = ["node1", "node2", "node3", "witness"].flatMap { ["\(cluster)/\($0)/data/postmaster.pid", "\(cluster)/\($0)/keeld.pid"] }
        let pids = pidFiles.compactMap { (try? String(contentsOfFile: $0, encoding: .utf8))?.split(separator: "\n").first.flatMap { Int32($0) } }
        #expect(pids.count == 8, "four servers and four keelds run")
        let destroy = try ws.run("keel", ["sandbox", "destroy", cluster], environment: env, timeout: 120)
        #expect(destroy.succeeded, "\(destroy)")
        #expect(!FileManager.default.fileExists(atPath: cluster))
        #expect(ws.dataDirectoriesWithPostmasterPID().isEmpty)
        for pid in pids {
            let state = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            #expect(state.isEmpty || state.contains("State:\tZ"), "process \(pid) still runs after destroy")
        }
    }
}
