import Foundation
import Testing
import KeelTesting

/// Lua hooks on real PostgreSQL (15, or 18 in the second pass of scripts/test) with running keeld daemons, using the sample hooks of `hooks/` (copied into
/// the workspace, with their settings changed by substitution where a scenario needs it), and `keel hook test`.
@Suite("Lua hooks on real PostgreSQL", .serialized)
struct LuaHookTests {
    /// The text of the sample hook `hooks/<name>`.
    static func sample(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOfFile: root.appendingPathComponent("hooks/\(name)").path, encoding: .utf8)
    }

    /// Copies sample `name` to `<workspace>/hooks/name`, replacing each key of `changes` by its value.
    @discardableResult
    static func install(_ name: String, in c: FailoverCluster, _ changes: [String: String] = [:]) throws -> String {
        var text = try sample(name)
        for (from, to) in changes {
            #expect(text.contains(from), "sample \(name) has no \"\(from)\"")
            text = text.replacingOccurrences(of: from, with: to)
        }
        return try c.f.workspace.writeFile("hooks/\(name)", text, mode: 0o644)
    }

    static func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test("a Lua validation hook vetoes a failover; after its script is fixed and reloaded by SIGHUP it allows it")
    func validationVetoThenAllow() throws {
        let c = try FailoverCluster("luaveto", standbys: 1, witness: true,
                                    extra: ["node2": "failover_validation_command='lua:hooks/failover_validation.lua#validate'"])
        let hook = try Self.install("failover_validation.lua", in: c, ["local MIN_VISIBLE = 2": "local MIN_VISIBLE = 9"])
        try c.startDaemons()
        try waitFor("hook script loaded at start") { c.log("node2").contains("hook script \"\(hook)\" loaded") }
        try c.server("node1").kill()
        try waitFor("the Lua hook vetoes", timeout: 60) {
            c.log("node2").contains("vetoed the promotion of this node \"node2\" (ID: 2): lua:\(hook)#validate returned false: only")
        }
        #expect(!c.isPrimary("node2"))
        #expect(c.log("node2").contains("(at least 9 required)"))
        try Self.install("failover_validation.lua", in: c, ["local MIN_VISIBLE = 2": "local MIN_VISIBLE = 1"])
        c.daemons["node2"]?.signal(SIGHUP)
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")
        #expect(c.log("node2").contains("allowing the promotion of node \"node2\" (ID: 2)"))
    }

    @Test("Lua promote and follow hooks fail over the cluster, Keel records it, and a Lua event hook sees the events with their node IDs")
    func promoteFollowNotify() throws {
        let c = try FailoverCluster("luapromote", standbys: 2, witness: true, common: """
            promote_command='lua:hooks/promote.lua#promote'
            follow_command='lua:hooks/follow.lua#follow'
            event_notification_command='lua:hooks/notify.lua'
            """)
        let events = try c.f.workspace.writeFile("events.jsonl", "", mode: 0o644)
        try Self.install("promote.lua", in: c)
        try Self.install("follow.lua", in: c)
        try Self.install("notify.lua", in: c, ["/var/log/keel/events.jsonl": events])
        let termBefore = Int(c.query("node1", "SELECT term FROM repmgr.voting_term")) ?? 0
        try c.startDaemons()
        try c.server("node1").psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
        try waitFor("row replicated") { c.query("node3", "SELECT count(*) FROM t") == "1" }

        try c.server("node1").kill()
        #expect(try c.waitForNewPrimary(among: ["node2", "node3"]) == "node2")
        try c.waitForStreaming("node3", from: "node2")
        try c.server("node2").psql("INSERT INTO t VALUES (2)")
        try waitFor("write on the new primary reaches node3") { c.query("node3", "SELECT count(*) FROM t") == "2" }
        #expect(c.log("node2").contains("promoting node \"node2\" (ID: 2)"))
        #expect(c.log("node3").contains("primary_conninfo now points to node \"node2\" (ID: 2)"))

        // Keel's bookkeeping after the hooks.
        try waitFor("metadata updated") {
            c.query("node2", "SELECT node_id || ':' || type || ':' || active || ':' || coalesce(upstream_node_id::text, '-') FROM repmgr.nodes WHERE node_id IN (1, 2, 3) ORDER BY 1")
                == "1:primary:false:-\n2:primary:true:-\n3:standby:true:2"
        }
        #expect(Int(c.query("node2", "SELECT term FROM repmgr.voting_term")) == termBefore + 1)
        try waitFor("events recorded with their node IDs") {
            c.query("node2", """
                SELECT count(DISTINCT (node_id, event)) FROM repmgr.events
                 WHERE (node_id, event) IN ((2, 'standby_promote'), (2, 'repmgrd_failover_promote'),
                                            (3, 'standby_follow'), (3, 'repmgrd_failover_follow'))
                """) == "4"
        }
        // The Lua event hook, run by keeld off its monitoring loop, received the failover events.
        try waitFor("event hook wrote the failover events", timeout: 30) {
            let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
            return text.contains("\"event\":\"repmgrd_failover_promote\"") && text.contains("\"event\":\"repmgrd_failover_follow\"")
        }
        let lines = try String(contentsOfFile: events, encoding: .utf8).split(separator: "\n").map(String.init)
        let promote = try #require(lines.first { $0.contains("\"event\":\"repmgrd_failover_promote\"") })
        #expect(promote.contains("\"node_id\":2,"), "\(promote)")
        #expect(promote.contains("\"node_name\":\"node2\""), "\(promote)")
        #expect(promote.contains("\"success\":true"), "\(promote)")
        let follow = try #require(lines.first { $0.contains("\"event\":\"repmgrd_failover_follow\"") && $0.contains("\"node_id\":3,") })
        #expect(follow.contains("\"primary_id\":2,"), "\(follow)")
        #expect(!lines.joined().contains("password="), "no conninfo in clear")
    }

    @Test("a hook stuck in a loop is cut at its budget (pcall cannot save it) and keeld goes on monitoring")
    func stuckHook() throws {
        let c = try FailoverCluster("luastuck", standbys: 1, witness: true, extra: ["node2": """
            failover_validation_command='lua:hooks/stuck.lua#validate'
            lua_hook_timeout=1
            """])
        try c.f.workspace.writeFile("hooks/stuck.lua", """
            function validate(ctx)
              pcall(function() while true do end end)
              return true
            end
            """, mode: 0o644)
        try c.startDaemons()
        try c.server("node1").kill()
        try waitFor("two election rounds cut at the budget", timeout: 60) {
            Self.occurrences("time budget of 1000 ms exceeded (lua_hook_timeout)", in: c.log("node2")) >= 2
        }
        #expect(c.log("node2").contains("failover_validation_command (lua:"))
        #expect(!c.isPrimary("node2"))
        #expect(c.daemons["node2"]?.isRunning == true)
        try c.server("node1").start()
        try waitFor("keeld sees the primary again", timeout: 60) { c.log("node2").contains("reconnected to upstream") }
        #expect(c.daemons["node2"]?.isRunning == true)
        #expect(!c.isPrimary("node2"))
    }

    @Test("a validation hook stuck in a looping finalizer during a failover: keeld vetoes at budget + grace, promotes once the hook is fixed and reloaded, and stops on SIGTERM within 2 s")
    func runawayFinalizer() throws {
        let c = try FailoverCluster("luarunaway", standbys: 1, witness: true, extra: ["node2": """
            failover_validation_command='lua:hooks/runaway.lua#validate'
            lua_hook_timeout=1
            """])
        let hook = try c.f.workspace.writeFile("hooks/runaway.lua", """
            function validate(ctx)
              setmetatable({}, {__gc = function() while true do end end})
              collectgarbage()
              return true
            end
            """, mode: 0o644)
        try c.startDaemons()
        try c.server("node1").kill()
        var abandoned = ""
        try waitFor("the watchdog abandons the validation hook", timeout: 60) {
            abandoned = c.log("node2").split(separator: "\n").first { $0.contains("abandoned by the watchdog") }.map(String.init) ?? ""
            return !abandoned.isEmpty
        }
        // "failover_validation_command (lua:…#validate) failed after 1.52 s: lua run timeout …"
        let seconds = try #require(abandoned.split(separator: " failed after ").last?.split(separator: " ").first.flatMap { Double($0) },
                                   "\(abandoned)")
        #expect(seconds >= 1 && seconds < 1 + 0.5 + 0.5, "vetoed after \(seconds) s (budget 1 s + grace 0.5 s)")
        try waitFor("the veto is logged", timeout: 30) {
            c.log("node2").contains("vetoed the promotion of this node \"node2\" (ID: 2): lua:\(hook)#validate failed: lua run timeout")
        }
        #expect(!c.isPrimary("node2"))
        #expect(c.daemons["node2"]?.isRunning == true)

        try c.f.workspace.writeFile("hooks/runaway.lua", "function validate(ctx) return true end\n", mode: 0o644)
        c.daemons["node2"]?.signal(SIGHUP)
        #expect(try c.waitForNewPrimary(among: ["node2"]) == "node2")

        let took = c.terminateDaemon("node2", timeout: 10)
        #expect(took != nil, "keeld ended on SIGTERM")
        #expect(took.map { $0 < .seconds(2) } == true, "keeld took \(String(describing: took)) to stop")
    }

    @Test("an event hook that takes its whole budget does not hold keeld's exit: SIGTERM ends keeld within 2 s, the notifications left are counted")
    func slowEventHookOnStop() throws {
        let c = try FailoverCluster("luaslowevent", standbys: 1, witness: false, extra: ["node1": """
            event_notification_command='lua:hooks/slow.lua#notify'
            lua_hook_timeout=30
            """])
        try c.f.workspace.writeFile("hooks/slow.lua", "function notify(ev) keel.sleep(25) end\n", mode: 0o644)
        try c.startDaemon("node1")
        try waitFor("keeld on node1 monitoring", timeout: 30) { c.log("node1").contains("monitoring cluster primary") }
        let took = c.terminateDaemon("node1", timeout: 30)
        #expect(took != nil, "keeld ended on SIGTERM")
        #expect(took.map { $0 < .seconds(2) } == true, "keeld took \(String(describing: took)) to stop")
        #expect(c.log("node1").contains("queued notification(s) not run: keeld is stopping"))
    }

    @Test("keel.query reads through a cursor: a result larger than lua_memory_limit fails the call before it is held; SHOW and small results work")
    func queryMemoryBound() throws {
        let c = try FailoverCluster("luaquerycap", standbys: 1, witness: false)
        try c.f.workspace.writeFile("hooks/q.lua", """
            function small(ctx)
              local rows = keel.query(1, "SELECT g AS n FROM generate_series(1, 1200) g;")
              local show = keel.query(1, "SHOW server_version_num")
              return #rows == 1200 and rows[1200].n == 1200 and show[1].server_version_num ~= nil, "small query"
            end
            function huge(ctx)
              local rows = keel.query(1, "SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 200000) g")
              return true
            end
            """, mode: 0o644)
        let base = try String(contentsOfFile: c.f.config("node2"), encoding: .utf8)
        for (function, expectAllowed) in [("small", true), ("huge", false)] {
            let conf = try c.f.workspace.writeFile("q-\(function).conf", base + """
                lua_memory_limit=16
                lua_hook_timeout=20
                failover_validation_command='lua:hooks/q.lua#\(function)'

                """)
            let run = try c.f.keel("-f", conf, "hook", "test", "failover_validation_command")
            #expect((run.status == 0) == expectAllowed, "\(function): \(run.combinedOutput)")
            if !expectAllowed {
                #expect(run.combinedOutput.contains("the result of keel.query exceeds lua_memory_limit (16 MB)"), "\(run.combinedOutput)")
            }
        }
    }

    @Test("keel hook test runs each sample hook and reports what it returned, its time and its log")
    func hookTest() throws {
        let c = try FailoverCluster("hooktest", standbys: 1, witness: false)
        let events = try c.f.workspace.writeFile("hooktest-events.jsonl", "", mode: 0o644)
        for name in ["failover_validation.lua", "promote.lua", "follow.lua"] { try Self.install(name, in: c) }
        try Self.install("notify.lua", in: c, ["/var/log/keel/events.jsonl": events])
        let base = try String(contentsOfFile: c.f.config("node2"), encoding: .utf8)
        let config = try c.f.workspace.writeFile("hooktest.conf", base + """
            failover_validation_command='lua:hooks/failover_validation.lua#validate'
            promote_command='lua:hooks/promote.lua#promote'
            follow_command='lua:hooks/follow.lua#follow'
            event_notification_command='lua:hooks/notify.lua'
            child_nodes_disconnect_command='echo children of %p gone'

            """)
        let allowed = try c.f.keel("-f", config, "hook", "test", "failover_validation_command")
        #expect(allowed.status == 0, "\(allowed.combinedOutput)")
        #expect(allowed.stdout.contains("returned: true"))
        #expect(allowed.stdout.contains("verdict:  allowed"))
        #expect(allowed.stdout.contains("INFO: allowing the promotion of node \"node2\" (ID: 2)"))
        #expect(allowed.stdout.contains(" in the VM; script loaded in "))

        try c.f.workspace.writeFile("veto.json", #"{"node_id": 2, "node_name": "node2", "visible": 1, "total": 4, "shared_upstream": 3, "term": 5, "candidates": []}"#, mode: 0o644)
        let vetoed = try c.f.keel("-f", config, "hook", "test", "failover_validation_command", "--context", c.f.workspace.path + "/veto.json")
        #expect(vetoed.status == 1)
        #expect(vetoed.stdout.contains("verdict:  vetoed: lua:"), "\(vetoed.stdout)")
        #expect(vetoed.stdout.contains("returned false: only 1 of 3 nodes sharing the upstream visible"))

        let notified = try c.f.keel("-f", config, "hook", "test", "event_notification_command", "--json")
        #expect(notified.status == 0, "\(notified.combinedOutput)")
        #expect(notified.stdout.contains("\"succeeded\":true"))
        #expect(try String(contentsOfFile: events, encoding: .utf8).contains("\"event\":\"keel_hook_test\""))

        let follow = try c.f.keel("-f", config, "hook", "test", "follow_command", "--dry-run")
        #expect(follow.status == 0, "\(follow.combinedOutput)")
        #expect(follow.stdout.contains("verdict:  succeeded"))
        #expect(follow.stderr.contains("dry run: would execute"), "ALTER SYSTEM only logged")

        // promote.lua's pre-check refuses while the primary runs; with it stopped, --dry-run goes as far as pg_promote().
        let refused = try c.f.keel("-f", config, "hook", "test", "promote_command", "--dry-run")
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("returned false: node \"node1\" (ID: 1) is running as a primary"), "\(refused.stdout)")
        try c.server("node1").stop(mode: "fast")
        let promote = try c.f.keel("-f", config, "hook", "test", "promote_command", "--dry-run")
        #expect(promote.status == 0, "\(promote.combinedOutput)")
        #expect(promote.stdout.contains("INFO: promoting node \"node2\" (ID: 2)"))
        #expect(promote.stderr.contains("dry run: would execute"))
        #expect(!c.isPrimary("node2"), "--dry-run does not promote")

        let shell = try c.f.keel("-f", config, "hook", "test", "child_nodes_disconnect_command")
        #expect(shell.status == 0)
        #expect(shell.stdout.contains("command:  echo children of '2' gone"))
        #expect(shell.stdout.contains("stdout: children of 2 gone"))

        let unknown = try c.f.keel("-f", config, "hook", "test", "no_such_command")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("is not a hook key"))
        let unset = try c.f.keel("-f", c.f.config("node2"), "hook", "test", "follow_command")
        #expect(unset.status == 1)

        // A top-level chunk that never ends: cut at its budget, reported as a load failure, run once only.
        let marker = c.f.workspace.path + "/hooktest-loads"
        try c.f.workspace.writeFile("hooks/loops.lua", """
            keel.shell("echo loaded >> \(marker)")
            while true do end
            function validate(ctx) return true end
            """, mode: 0o644)
        let looping = try c.f.workspace.writeFile("hooktest-loop.conf", base + """
            lua_hook_timeout=1
            failover_validation_command='lua:hooks/loops.lua#validate'

            """)
        let loops = try c.f.keel("-f", looping, "hook", "test", "failover_validation_command")
        #expect(loops.status == 1)
        #expect(loops.stdout.contains("verdict:  vetoed: the script did not load"), "\(loops.stdout)")
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "loaded\n", "the top-level chunk ran once")
    }
}
