import Foundation
import Testing
import KeelTesting

/// `keel run` with the sample playbooks of `scripts/playbooks/` (copied into the workspace) on real
/// PostgreSQL (15 or 18): gates, dry runs that change nothing, `--json`, errors, and each playbook's effect.
@Suite("Lua playbooks (keel run) on real PostgreSQL", .serialized)
struct PlaybookTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Copies `scripts/playbooks/<name>` into the workspace and returns its path there.
    static func install(_ name: String, in c: FailoverCluster) throws -> String {
        let text = try String(contentsOfFile: root.appendingPathComponent("scripts/playbooks/\(name)").path, encoding: .utf8)
        return try c.f.workspace.writeFile("playbooks/\(name)", text, mode: 0o644)
    }

    /// What a dry run must leave alone: nodes, event count, replication, keeld pauses, server start times.
    static func snapshot(_ c: FailoverCluster, primary: String) -> [String] {
        [c.query(primary, TopologyTests.nodesQuery), c.query(primary, "SELECT count(*) FROM repmgr.events"),
         c.query(primary, TopologyTests.replicationQuery), c.query(primary, "SELECT count(*) FROM repmgr.keel_daemon WHERE paused")]
            + c.names.map { c.query($0, "SELECT pg_postmaster_start_time()") }
    }

    /// The JSON objects of `--json` output, one per line.
    static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test("switchover.lua: compile error, missing argument, failing gate, dry run with --json, no terminal without --yes, then the switchover; health-report.lua")
    func switchoverPlaybook() throws {
        let c = try FailoverCluster("pbswitch", standbys: 2, witness: true, common: TopologyTests.pgCtl)
        let f = c.f
        let book = try Self.install("switchover.lua", in: c)
        let health = try Self.install("health-report.lua", in: c)
        try TopologyTests.waitCaughtUp(c, "node1", ["node2", "node3"])

        let bad = try f.workspace.writeFile("playbooks/bad.lua", "keel.step('a', function() end)\nlocal = 1\n", mode: 0o644)
        let compile = try f.keel("-f", f.config("node1"), "run", bad)
        #expect(compile.status == 1)
        #expect(compile.stderr.contains("bad.lua:2"), "\(compile)")
        #expect(!compile.stdout.contains("[1/"))

        let missing = try f.keel("-f", f.config("node1"), "run", book, "lag_max=10")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing required argument node=VALUE"), "\(missing)")
        #expect(!missing.stdout.contains("[1/"))

        let before = Self.snapshot(c, primary: "node1")
        let gate = try f.keel("-f", f.config("node1"), "run", book, "node=2", "lag_max=-1", "daemons=false", "--yes")
        #expect(gate.status == 1, "\(gate)")
        #expect(gate.stdout.contains("[1/5]") && gate.stdout.contains("failed: "), "\(gate)")
        #expect(gate.stdout.components(separatedBy: "  skipped").count - 1 == 4, "\(gate.stdout)")

        let dry = try f.keel("-f", f.config("node1"), "run", book, "node=2", "daemons=false", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry)")
        let objects = try Self.objects(dry.stdout)
        #expect(objects.count == 6)
        #expect(objects.prefix(5).map { $0["index"] as? Int } == [1, 2, 3, 4, 5])
        #expect(objects[3]["result"] as? String == "would")
        #expect(objects[4]["result"] as? String == "would")
        #expect(objects[5]["type"] as? String == "summary" && objects[5]["exit_code"] as? Int == 0)
        #expect(Self.snapshot(c, primary: "node1") == before)

        let unconfirmed = try f.keel("-f", f.config("node1"), "run", book, "node=2", "daemons=false")
        #expect(unconfirmed.status == 1)
        #expect(unconfirmed.stdout.contains("standard input is not a terminal"), "\(unconfirmed)")
        #expect(Self.snapshot(c, primary: "node1") == before)

        try c.startDaemons()
        try waitFor("every keeld heartbeat", timeout: 30) {
            c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE last_heartbeat > now() - interval '30 seconds'") == "4"
        }
        let run = try f.keel("-f", f.config("node1"), "run", book, "node=2", "--yes")
        #expect(run.status == 0, "\(run)")
        #expect(c.isPrimary("node2") && !c.isPrimary("node1") && !c.isPrimary("node3"))
        try c.waitForStreaming("node1", from: "node2")
        try c.waitForStreaming("node3", from: "node2")

        let report = try f.keel("-f", f.config("node2"), "run", health)
        #expect(report.status == 0, "\(report)")
        #expect(report.stdout.contains("node2") && report.stdout.contains("primary") && report.stdout.contains("healthy"))
        let unhealthy = try f.keel("-f", f.config("node2"), "run", health, "lag_max=-1")
        #expect(unhealthy.status == 1)
        #expect(unhealthy.stdout.contains("failed: ") && unhealthy.stdout.contains("lags"))
    }

    @Test("rolling-restart.lua: the dry run changes nothing; the run restarts every server, switches over and back")
    func rollingRestart() throws {
        let c = try FailoverCluster("pbroll", standbys: 2, witness: false, common: TopologyTests.pgCtl)
        let f = c.f
        let book = try Self.install("rolling-restart.lua", in: c)
        try TopologyTests.waitCaughtUp(c, "node1", ["node2", "node3"])
        let before = Self.snapshot(c, primary: "node1")
        let dry = try f.keel("-f", f.config("node1"), "run", book, "node=2", "switch_back=true", "--dry-run")
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("would: "), "\(dry)")
        #expect(Self.snapshot(c, primary: "node1") == before)

        let started = c.names.map { c.query($0, "SELECT pg_postmaster_start_time()") }
        let run = try f.keel("-f", f.config("node1"), "run", book, "node=2", "switch_back=true", "--yes")
        #expect(run.status == 0, "\(run)")
        let after = c.names.map { c.query($0, "SELECT pg_postmaster_start_time()") }
        for (name, (old, new)) in zip(c.names, zip(started, after)) { #expect(old != new, "\(name) was not restarted") }
        #expect(c.isPrimary("node1"))
        try c.waitForStreaming("node2", from: "node1")
        try c.waitForStreaming("node3", from: "node1")
    }

    @Test("failover-drill.lua with keeld running reports the failover time and events; rejoin.lua brings the old primary back")
    func failoverDrillThenRejoin() throws {
        let c = try FailoverCluster("pbdrill", standbys: 2, witness: true, common: TopologyTests.pgCtl)
        let f = c.f
        let drill = try Self.install("failover-drill.lua", in: c)
        let rejoin = try Self.install("rejoin.lua", in: c)
        try c.startDaemons()
        try waitFor("every keeld heartbeat", timeout: 30) {
            c.query("node1", "SELECT count(*) FROM repmgr.keel_daemon WHERE last_heartbeat > now() - interval '30 seconds'") == "4"
        }
        let refused = try f.keel("-f", f.config("node2"), "run", drill, "--yes")
        #expect(refused.status == 1 && refused.stdout.contains("sandbox=true"))

        let run = try f.keel("-f", f.config("node2"), "run", drill, "sandbox=true", "--yes")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("failover took"), "\(run)")
        #expect(run.stdout.contains("repmgrd_failover_promote"))
        let primary = try c.waitForNewPrimary(among: ["node2", "node3"])

        // The harness appends each node's port to its postgresql.conf: keep node1's across pg_rewind
        // (which copies the primary's files), as repmgr operators do with --config-files.
        let back = try f.keel("-f", f.config(primary), "run", rejoin, "node=1", "config_files=postgresql.conf", "--yes")
        #expect(back.status == 0, "\(back)")
        try c.waitForStreaming("node1", from: primary, timeout: 60)
    }
}
