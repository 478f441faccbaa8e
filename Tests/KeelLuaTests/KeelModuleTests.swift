import Foundation
import Testing
@testable import KeelLua

/// The `keel` module through a fake cluster: nodes, queries, shell, logs, events, JSON, Unicode, size.
@Suite("keel module")
struct KeelModuleTests {
    @Test("keel.node and keel.nodes(): fields, live state, masked conninfo")
    func nodes() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("nodes.lua", """
            return function()
              local me = keel.node
              local all = keel.nodes()
              local three = keel.node_by_id(3)
              return me.id, me.name, me.type, me.upstream_id, me.conninfo, me.data_directory, #all,
                     all[1].status, all[2].lsn, three.lag_bytes, keel.node_by_id(42), all[1].conninfo
            end
            """)
        let result = try await LuaEngine().run(file)
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.values == [2, "node2", "standby", 1, "host=db2 user=repmgr password=... dbname=repmgr", "/var/lib/pg", 3,
                                  "unreachable", "0/3000060", 96, .null, "host=db1 password=..."])
    }

    @Test("keel.query binds parameters and is read-only; keel.exec is not")
    func query() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("q.lua", """
            return function()
              local rows = keel.query(1, "SELECT $1::text, $2, $3, $4", "x'); DROP TABLE t; --", 42, true, nil)
              keel.exec("host=db1 password=p", "SELECT pg_promote()")
              return rows[1].one
            end
            """)
        let host = FakeHost()
        let result = try await LuaEngine().run(file, host: host)
        #expect(result.values == [1])
        #expect(host.queries.count == 2)
        #expect(host.queries[0].0 == .node(1))
        #expect(host.queries[0].2 == ["x'); DROP TABLE t; --", "42", "t", nil])
        #expect(host.queries[0].3 == true)
        #expect(host.queries[1].0 == .conninfo("host=db1 password=p"))
        #expect(host.queries[1].3 == false)
    }

    @Test("large results from keel.query arrive whole; too large ones hit the memory cap, not the daemon")
    func largeResults() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("big.lua", """
            return function()
              local rows = keel.query(1, "SELECT * FROM big")
              local sum, chars = 0, 0
              for _, row in ipairs(rows) do sum = sum + row.n; chars = chars + #row.label end
              return #rows, sum, chars, rows[#rows].label
            end
            """)
        let host = FakeHost()
        let count = 50_000
        host.queryResult = LuaQueryResult(columns: ["n", "label", "empty"],
                                          rows: (1...count).map { [.integer(Int64($0)), .string("row-\($0)-ünï"), .null] })
        let engine = try LuaEngine(limits: LuaLimits(timeout: 30, memoryMegabytes: 64))
        let result = await engine.run(file, host: host)
        #expect(result.error == nil, "\(String(describing: result.error))")
        let chars = (1...count).reduce(0) { $0 + "row-\($1)-ünï".utf8.count }
        #expect(result.values == [.integer(Int64(count)), .integer(Int64(count * (count + 1) / 2)), .integer(Int64(chars)),
                                  .string("row-\(count)-ünï")])
        let small = try LuaEngine(limits: LuaLimits(timeout: 30, memoryMegabytes: 4))
        let capped = await small.run(file, host: host)
        #expect(capped.error?.kind == .memory, "\(String(describing: capped.error))")
        host.queryResult = LuaQueryResult(columns: ["n", "label"], rows: [[1, "one"]])
        #expect(await small.run(file, host: host).values == [1, 1, 3, "one"])
    }

    @Test("Unicode strings go in and out unchanged; utf8 counts code points")
    func unicode() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("u.lua", """
            return function(ctx)
              local s = ctx.name .. " → ok"
              keel.log.info("nœud " .. ctx.name)
              return s, utf8.len(ctx.name), #ctx.name, keel.json.encode({name = ctx.name}), keel.json.decode('"\\\\u00e9t\\\\u00e9"')
            end
            """)
        let name = "Zürich ☃ 日本 🚀"
        let result = try await LuaEngine().run(file, context: ["name": .string(name)])
        #expect(result.values == [.string(name + " → ok"), .integer(Int64(name.unicodeScalars.count)),
                                  .integer(Int64(name.utf8.count)), .string("{\"name\":\"\(name)\"}"), "été"])
        #expect(result.logs == [LuaLogEntry(level: .info, message: "nœud " + name)])
    }

    @Test("keel.shell, keel.log, print, keel.event, keel.json")
    func misc() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("m.lua", """
            return function(ctx)
              local r = keel.shell("echo hi", {timeout = 2, env = {X = "y"}})
              keel.log.debug("d"); keel.log.warn("w"); keel.log.error("e"); print("p", 1, nil, true)
              keel.event("custom_event", false, "details here")
              local decoded = keel.json.decode('{"a":[1,2,{"b":null}],"c":1.5,"d":"x"}')
              return r.code, r.stdout, r.stderr, keel.json.encode(decoded), keel.json.encode({}), decoded.a[3].b, keel.dry_run
            end
            """)
        let host = FakeHost()
        let result = try await LuaEngine().run(file, host: host)
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.values == [0, "ran: echo hi\n", "y", "{\"a\":[1,2,{}],\"c\":1.5,\"d\":\"x\"}", "{}", .null, false])
        #expect(host.shells.first?.2 == 2)
        #expect(result.logs.map(\.level) == [.debug, .warn, .error, .info])
        #expect(result.logs.last?.message == "p\t1\tnil\ttrue")
        #expect(host.events.count == 1 && host.events[0].0 == "custom_event" && host.events[0].1 == false)
        let bad = try dir.write("bad.lua", "return function() return keel.json.decode('{oops') end\n")
        #expect(try await LuaEngine().run(bad).error?.message.hasPrefix("keel.json.decode: invalid JSON") == true)
    }

    @Test("argument mistakes are clear errors")
    func argumentErrors() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("a.lua", """
            function q() return keel.query({}, "x") end
            function p() return keel.query(1, "x", {}) end
            function s() return keel.shell(42) end
            """)
        let engine = try LuaEngine()
        #expect(await engine.run(file, "q").error?.message.contains("argument 1 must be a node ID or a conninfo string") == true)
        #expect(await engine.run(file, "p").error?.message.contains("parameter $1 is a table") == true)
        #expect(await engine.run(file, "s").error?.message.contains("keel.shell: argument 1 must be the command") == true)
    }

    @Test("concurrent callers are served one at a time, all correctly")
    func concurrentCalls() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("c.lua", "counter = 0\nfunction bump(ctx) counter = counter + 1; return ctx.n * 2, counter end\n")
        let engine = try LuaEngine()
        let results = await withTaskGroup(of: LuaCallResult.self) { group in
            for n in 1...200 { group.addTask { await engine.run(file, "bump", context: ["n": .integer(Int64(n))]) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.error == nil })
        #expect(Set(results.compactMap { $0.values.first?.intValue }) == Set((1...200).map { $0 * 2 }))
        #expect(Set(results.compactMap { $0.values.last?.intValue }) == Set(1...200))
    }
}
