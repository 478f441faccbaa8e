import Foundation
import Testing
@testable import KeelLua

/// The sample hooks of `hooks/` against a fake cluster (their run on real PostgreSQL is in the integration
/// tests).
@Suite("sample hooks")
struct SampleHookTests {
    static func validationContext(visible: Int = 2, lag: Int64 = 0) -> LuaValue {
        ["node_id": 2, "node_name": "node2", "visible": .integer(Int64(visible)), "total": 3, "shared_upstream": 2, "term": 4,
         "lsn": "0/3000060", "lag_bytes": .integer(lag),
         "candidates": [["node_id": 2, "node_name": "node2", "lsn": "0/3000060", "priority": 100, "location": "dc1",
                         "lag_bytes": .integer(lag)]]]
    }

    @Test("failover_validation.lua allows, and vetoes on visibility and on lag")
    func validation() async throws {
        let file = SampleHooks.folder + "/failover_validation.lua"
        let engine = try LuaEngine()
        let allowed = await engine.run(file, "validate", context: Self.validationContext())
        #expect(allowed.verdict.succeeded, "\(allowed.verdict)")
        #expect(allowed.logs.first?.message.contains("allowing the promotion of node \"node2\" (ID: 2) for term 4") == true)
        let alone = await engine.run(file, "validate", context: Self.validationContext(visible: 1))
        #expect(alone.verdict.reason == "only 1 of 2 nodes sharing the upstream visible (at least 2 required)")
        let behind = await engine.run(file, "validate", context: Self.validationContext(lag: 32 << 20))
        #expect(behind.verdict.reason == "node \"node2\" is 33554432 bytes behind (at most 16777216 allowed)")
    }

    @Test("fence.lua logs the fence and, with a VIP set, drops it from this host")
    func fence() async throws {
        let context: LuaValue = ["node_id": 1, "node_name": "node1", "reason": "former_primary", "action": "demote",
                                 "details": "node 2 runs as primary on timeline 2", "timeline": 1, "term": 1]
        let engine = try LuaEngine()
        let plain = await engine.run(SampleHooks.folder + "/fence.lua", context: context)
        #expect(plain.verdict.succeeded, "\(plain.verdict)")
        #expect(plain.logs.first?.message.contains("node node1 fenced (former_primary, demote)") == true)
        let dir = try ScriptFolder()
        let vip = try dir.write("fence.lua", try SampleHooks.source("fence.lua")
            .replacingOccurrences(of: "local VIP = \"\"", with: "local VIP = \"10.0.0.50/24\""))
        let host = FakeHost()
        let dropped = await engine.run(vip, context: context, host: host)
        #expect(dropped.verdict.succeeded, "\(dropped.verdict)")
        #expect(host.shells.map(\.0) == ["ip addr del 10.0.0.50/24 dev eth0"])
    }

    @Test("notify.lua appends one JSON line per event and filters by name")
    func notify() async throws {
        let dir = try ScriptFolder()
        let out = dir.path + "/events.jsonl"
        let source = try SampleHooks.source("notify.lua").replacingOccurrences(of: "/var/log/keel/events.jsonl", with: out)
        let all = try dir.write("notify.lua", source)
        let only = try dir.write("notify-only.lua", source.replacingOccurrences(
            of: "local ONLY = {}", with: "local ONLY = { \"repmgrd_failover_promote\" }"))
        let engine = try LuaEngine()
        let promote: LuaValue = ["node_id": 2, "node_name": "node2", "event": "repmgrd_failover_promote", "success": true,
                                 "timestamp": "2026-01-01 00:00:00+00", "details": "node 2 promoted — ünï", "primary_id": 1]
        let other: LuaValue = ["node_id": 3, "event": "standby_follow", "success": false, "details": "x"]
        for (file, event) in [(all, promote), (all, other), (only, promote), (only, other)] {
            let result = await engine.run(file, context: event)
            #expect(result.error == nil, "\(String(describing: result.error))")
        }
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(try lines.map { try LuaJSON.decode($0) } == [promote, other, promote])
    }

    @Test("promote.lua checks this node and the others, then promotes with pg_promote")
    func promote() async throws {
        let file = SampleHooks.folder + "/promote.lua"
        let engine = try LuaEngine()
        let host = FakeHost()
        host.respond = { _, sql, _, readOnly in
            if sql.contains("pg_is_in_recovery") { return LuaQueryResult(columns: ["standby", "paused"], rows: [[true, false]]) }
            if sql.contains("pg_promote") && !readOnly { return LuaQueryResult(columns: ["promoted"], rows: [[true]]) }
            return LuaQueryResult(columns: [], rows: [])
        }
        let context: LuaValue = ["node_id": 2, "node_name": "node2", "upstream_id": 1, "term": 5]
        let done = await engine.run(file, "promote", context: context, host: host)
        #expect(done.verdict.succeeded, "\(done.verdict)")
        #expect(host.queries.last?.1.contains("pg_promote(true, $1)") == true)
        #expect(host.queries.last?.2 == ["30"])
        #expect(host.queries.last?.3 == false)

        let busy = FakeHost()
        busy.respond = host.respond
        busy.cluster[2].isInRecovery = false
        let refused = await engine.run(file, "promote", context: context, host: busy)
        #expect(refused.verdict.reason == "node \"node3\" (ID: 3) is running as a primary")
        #expect(!busy.queries.contains { $0.1.contains("pg_promote") })

        let primary = FakeHost()
        primary.respond = { _, _, _, _ in LuaQueryResult(columns: ["standby", "paused"], rows: [[false, false]]) }
        #expect(await engine.run(file, "promote", context: context, host: primary).verdict.reason == "this node is not a standby")
    }

    @Test("follow.lua creates the slot on the new upstream, repoints primary_conninfo, reloads and waits for streaming")
    func follow() async throws {
        let file = SampleHooks.folder + "/follow.lua"
        let engine = try LuaEngine()
        let host = FakeHost()
        host.cluster[2] = LuaNode(id: 3, name: "node3", type: "primary", conninfo: "host=10.0.0.3 port=5433 user=repmgr password=x",
                                  status: "running", isInRecovery: false)
        host.respond = { target, sql, _, _ in
            if sql.contains("primary_slot_name") { return LuaQueryResult(columns: ["slot"], rows: [["repmgr_slot_2"]]) }
            if sql.contains("pg_replication_slots") { return LuaQueryResult(columns: ["x"], rows: []) }
            if sql.contains("pg_stat_wal_receiver") { return LuaQueryResult(columns: ["status", "sender_port"], rows: [["streaming", 5433]]) }
            return LuaQueryResult(columns: [], rows: [])
        }
        let result = await engine.run(file, "follow", context: ["node_id": 2, "node_name": "node2", "upstream_id": 3], host: host)
        #expect(result.verdict.succeeded, "\(result.verdict) \(result.logs)")
        let statements = host.queries.filter { !$0.3 }.map { ($0.0, $0.1, $0.2) }
        #expect(statements.count == 3)
        #expect(statements[0].0 == .node(3) && statements[0].1.contains("pg_create_physical_replication_slot") && statements[0].2 == ["repmgr_slot_2"])
        #expect(statements[1].0 == .node(2))
        #expect(statements[1].1 == "ALTER SYSTEM SET primary_conninfo = 'host=10.0.0.3 port=5433 user=repmgr application_name=node2'")
        #expect(statements[2].1.contains("pg_reload_conf"))

        let unknown = await engine.run(file, "follow", context: ["node_id": 2, "node_name": "node2", "upstream_id": 9], host: host)
        #expect(unknown.verdict.reason == "node 9 is not registered")
    }
}
