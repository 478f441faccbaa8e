import Foundation
import Logging
import Testing
import KeelCore
import KeelLua
@testable import KeelOps

/// The hook contract without a database: parsing hook values, contexts and placeholders, shell and Lua
/// verdicts, event notifications through a Lua hook, events recorded by Lua hooks.
@Suite("hooks: one contract for shell and Lua")
struct HookRunnerTests {
    /// A configuration in `folder` (for relative `lua:` paths) pointing at a server that does not exist.
    static func context(_ folder: String, _ extra: String) throws -> OpsContext {
        let config = try KeelConfig.parse(text: """
            node_id=2
            node_name='node2'
            conninfo='host=127.0.0.1 port=1 user=repmgr dbname=repmgr connect_timeout=1'
            data_directory='/var/lib/postgresql/15/main'
            \(extra)
            """, file: folder + "/keel.conf")
        return OpsContext(config: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, hooks: HookRunner())
    }

    /// A temporary folder, removed when the test ends.
    final class Folder {
        let path = NSTemporaryDirectory() + "keel-hook-tests-" + UUID().uuidString
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("hook values: empty, shell, lua:PATH#fn relative to the configuration's folder")
    func parsing() {
        #expect(Hook("", configDirectory: "/etc/keel") == .none)
        #expect(Hook("test -f /x", configDirectory: "/etc/keel") == .shell("test -f /x"))
        #expect(Hook("lua:hooks/v.lua#validate", configDirectory: "/etc/keel") == .lua(LuaHookReference(path: "/etc/keel/hooks/v.lua", function: "validate")))
        #expect(HookPoint.all.count == 11)
        #expect(HookPoint.service("restart").serviceAction == "restart")
    }

    @Test("validation context: lag behind the most advanced node seen, and the shell's %n %a %v %u %t from the same table")
    func validationContext() {
        let me = PeerView(nodeID: 2, name: "node2", type: .standby, reachable: true, lastReceivedLSN: LSN(0x3000000))
        let context = ValidationContext(nodeID: 2, nodeName: "node2", visible: 2, sharedUpstream: 3, total: 4, term: 7,
                                        lsn: LSN(0x3000000), candidates: [me])
        let table = HookContext.validation(context, referenceLSN: LSN(0x3000100))
        #expect(table["lag_bytes"] == 256)
        #expect(table["candidates"][0]["lag_bytes"] == 256)
        #expect(table["candidates"][0]["lsn"] == "0/3000000")
        #expect(HookContext.placeholders(for: .failoverValidation, table) == ["n": "2", "a": "node2", "v": "2", "u": "3", "t": "4"])
        let event = HookContext.event(EventRecord(nodeID: 3, event: "repmgrd_failover_follow", successful: true, timestamp: "t", details: "d"),
                                      primary: NodeRecord(nodeID: 2, nodeName: "node2", type: .primary, conninfo: "host=a password=pw",
                                                          replicationUser: "r", configFile: "/c"),
                                      config: try! KeelConfig.parse(text: "node_id=3\nnode_name='node3'\nconninfo='host=b'\ndata_directory='/d'\n", file: "/x/k.conf"))
        #expect(HookContext.placeholders(for: .eventNotification, event)
                == ["n": "3", "e": "repmgrd_failover_follow", "s": "1", "t": "t", "d": "d", "p": "2", "c": "host=a password=...", "a": "node2"])
        #expect(event["node_name"] == "node3")
    }

    @Test("shell hooks: exit 0 allows, another status refuses with repmgr's wording")
    func shell() async throws {
        let dir = try Folder()
        let ops = try Self.context(dir.path, "failover_validation_command='test %v -ge 3 || { echo only %v; exit 3; }'")
        let table: LuaValue = ["node_id": 2, "node_name": "node2", "visible": 2, "total": 3, "shared_upstream": 2]
        let vetoed = await ops.hooks.run(.failoverValidation, context: ops, luaContext: table, shellTimeout: 10)
        #expect(!vetoed.succeeded)
        #expect(vetoed.reason == "failover_validation_command exited with status 3: only 2")
        #expect(vetoed.command == "test '2' -ge 3 || { echo only '2'; exit 3; }")
        let allowed = await ops.hooks.run(.failoverValidation, context: ops, luaContext: ["visible": 3], shellTimeout: 10)
        #expect(allowed.succeeded && allowed.kind == .shell)
    }

    @Test("Lua hooks: true allows; false and a reason, other values, errors and timeouts refuse, saying why")
    func lua() async throws {
        let dir = try Folder()
        let folder = dir.path
        try """
            function yes() return true end
            function no(ctx) return false, "only " .. ctx.visible .. " visible" end
            function odd() return 42 end
            function boom() error("kaput") end
            function stuck() while true do end end
            """.write(toFile: folder + "/v.lua", atomically: true, encoding: .utf8)
        func run(_ fn: String) async throws -> HookOutcome {
            let ops = try Self.context(folder, "failover_validation_command='lua:v.lua#\(fn)'\nlua_hook_timeout=1")
            return await ops.hooks.run(.failoverValidation, context: ops, luaContext: ["visible": 1], shellTimeout: 10)
        }
        #expect(try await run("yes").succeeded)
        #expect(try await run("no").reason == "lua:\(folder)/v.lua#no returned false: only 1 visible")
        #expect(try await run("odd").reason?.hasPrefix("lua:\(folder)/v.lua#odd returned 42") == true)
        #expect(try await run("boom").reason == "lua:\(folder)/v.lua#boom failed: lua run error in \(folder)/v.lua:4: kaput")
        let stuck = try await run("stuck")
        #expect(stuck.luaError?.kind == .timeout)
        #expect(stuck.reason?.contains("time budget of 1000 ms exceeded") == true)
    }

    @Test("event notifications run a Lua hook with the event table; events a hook records are notified, except an event hook's own")
    func events() async throws {
        let dir = try Folder()
        let folder = dir.path
        let out = folder + "/events.jsonl"
        try """
            return function(e)
              local f = assert(io.open("\(out)", "a"))
              f:write(e.event, " ", e.node_id, " ", tostring(e.primary_id), " ", e.conninfo or "-", "\\n")
              f:close()
              keel.event("from_event_hook", true, "not notified")
            end
            """.write(toFile: folder + "/notify.lua", atomically: true, encoding: .utf8)
        try "function v() keel.event(\"from_validation\", true, \"notified\"); return true end\n"
            .write(toFile: folder + "/v.lua", atomically: true, encoding: .utf8)
        let ops = try Self.context(folder, "event_notification_command='lua:notify.lua'\nfailover_validation_command='lua:v.lua#v'")
        let primary = NodeRecord(nodeID: 1, nodeName: "node1", type: .primary, conninfo: "host=a password=secret", replicationUser: "r", configFile: "/c")
        await EventWriter(context: ops).notify(EventRecord(nodeID: 2, event: "standby_promote", successful: true, timestamp: "t", details: "d"),
                                               primary: primary)
        #expect(await ops.hooks.run(.failoverValidation, context: ops, luaContext: [:], shellTimeout: 10).succeeded)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["standby_promote 2 1 host=a password=...", "from_validation 2 nil -"])
    }

    @Test("hook points run on separate Lua engines: a validation hook does not wait behind a slow event notification hook")
    func separateEngines() async throws {
        let folder = try Folder()
        try "return function() keel.sleep(3) end\n".write(toFile: folder.path + "/slow.lua", atomically: true, encoding: .utf8)
        try "function validate() return true end\n".write(toFile: folder.path + "/v.lua", atomically: true, encoding: .utf8)
        let ops = try Self.context(folder.path, """
            event_notification_command='lua:slow.lua'
            failover_validation_command='lua:v.lua#validate'
            lua_hook_timeout=5
            """)
        #expect(await ops.hooks.run(.failoverValidation, context: ops, luaContext: [:], shellTimeout: 10).succeeded)
        let slow = Task { await ops.hooks.run(.eventNotification, context: ops, luaContext: [:], shellTimeout: 10) }
        try await Task.sleep(for: .milliseconds(300))   // the notification is asleep in its VM by now
        let clock = ContinuousClock()
        let started = clock.now
        let validation = await ops.hooks.run(.failoverValidation, context: ops, luaContext: [:], shellTimeout: 10)
        let waited = clock.now - started
        #expect(validation.succeeded)
        #expect(waited < .seconds(1), "validation took \(waited) behind the event hook")
        #expect(await slow.value.succeeded)
        #expect(ops.hooks.engine(for: .eventNotification, config: ops.config) !== ops.hooks.engine(for: .failoverValidation, config: ops.config))
    }

    @Test("SIGHUP's reload applies a changed lua_hook_timeout to the engine (the watchdog's load budget of a replaced VM)")
    func reloadAppliesTimeout() async throws {
        let folder = try Folder()
        let before = try Self.context(folder.path, "lua_hook_timeout=5\nlua_memory_limit=32\n")
        let engine = before.hooks.engine(for: .failoverValidation, config: before.config)
        #expect(engine.currentLimits.timeout == 5)
        let after = try Self.context(folder.path, "lua_hook_timeout=1\nlua_memory_limit=16\n")
        await before.hooks.reload(config: after.config, logger: after.logger)
        #expect(engine.currentLimits.timeout == 1)
        #expect(engine.currentLimits.memoryBytes == 32 << 20, "lua_memory_limit is not reloaded")
    }
}

@Suite("hook log lines")
struct HookLogLineTests {
    @Test("a hook's log message cannot forge or hide lines: control characters are escaped, tab and Unicode kept")
    func printable() {
        #expect(PostgresKeelHost.printable("a\n[2026-12-07 00:00:00] [NOTICE] FAKE\r\u{1b}[31m\tü")
                == "a\\n[2026-12-07 00:00:00] [NOTICE] FAKE\\r\\u{1b}[31m\tü")
    }
}
