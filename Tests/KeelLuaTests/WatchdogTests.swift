import Foundation
import Testing
@testable import KeelLua

/// The watchdog outside the VM (`WatchedLuaEngine`): a call that overruns its budget where Lua's count hook
/// cannot reach — a finalizer, a message handler, one long C library call — is abandoned at budget + grace,
/// counts as a timeout, and the engine is replaced by a fresh one that loads the same script versions.
///
/// The runaway code in these scripts ends on its own after a few seconds (wall clock, or a bounded count), so
/// the threads the tests abandon do not keep spinning for the rest of the test run.
@Suite("Lua watchdog")
struct WatchdogTests {
    static let budget = 0.3
    static let grace = WatchedLuaEngine.defaultGrace

    /// A script with `body` as function `runaway` and a function `fine` returning `version`.
    static func script(_ dir: ScriptFolder, _ body: String, version: String = "v1") throws -> String {
        try dir.write("hook.lua", """
            function runaway(ctx)
            \(body)
            end
            function fine() return "\(version)" end
            """)
    }

    /// Calls `runaway` on a fresh watched engine and checks the call was cut at budget + grace as a timeout
    /// and that the replacement engine answers; returns the engine.
    @discardableResult
    static func expectAbandoned(_ file: String, _ sourceLocation: SourceLocation = #_sourceLocation) async throws -> WatchedLuaEngine {
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: budget, memoryMegabytes: 16))
        #expect(await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test").values == ["v1"],
                sourceLocation: sourceLocation)
        let clock = ContinuousClock()
        let started = clock.now
        let result = await engine.call(LuaHookReference(path: file, function: "runaway"), arguments: [[:]], host: FakeHost(), label: "test")
        let elapsed = clock.now - started
        let error = try #require(result.error, "the runaway call returned \(result.values)", sourceLocation: sourceLocation)
        #expect(error.kind == .timeout, "\(error)", sourceLocation: sourceLocation)
        #expect(result.values.isEmpty, sourceLocation: sourceLocation)
        #expect(result.verdict.succeeded == false, sourceLocation: sourceLocation)
        #expect(elapsed < .seconds(budget + grace + 0.5), "cut after \(elapsed)", sourceLocation: sourceLocation)
        #expect(await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test").values == ["v1"],
                "the replacement engine serves the script", sourceLocation: sourceLocation)
        return engine
    }

    @Test("a __gc finalizer that loops (hooks are off there) is abandoned by the watchdog; the engine is replaced")
    func loopingFinalizer() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, """
              local stop = os.time() + 4
              setmetatable({}, {__gc = function() while os.time() < stop do end end})
              collectgarbage()
              return true
            """)
        let engine = try await Self.expectAbandoned(file)
        #expect(engine.replacements == 1)
    }

    @Test("an xpcall message handler that loops after the budget never runs; the call ends at its budget")
    func loopingMessageHandler() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, """
              local stop = os.time() + 4
              xpcall(function() while true do end end, function(e) while os.time() < stop do end return e end)
              return true
            """)
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: Self.budget))
        let result = await engine.call(LuaHookReference(path: file, function: "runaway"), arguments: [[:]], host: FakeHost(), label: "test")
        #expect(result.error?.kind == .timeout, "\(String(describing: result.error))")
        #expect(result.seconds < Self.budget + Self.grace)
        #expect(engine.replacements == 0, "stopped inside the VM: nothing to abandon")
    }

    @Test("one long C call (string.rep of a huge count) is abandoned at budget + grace")
    func stringRepBomb() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, "  string.rep('', 2e9)\n  return true")
        try await Self.expectAbandoned(file)
    }

    @Test("a backtracking string.find pattern is abandoned at budget + grace")
    func backtrackingPattern() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, "  string.find(string.rep('a', 150), string.rep('.-', 4) .. 'b')\n  return true")
        try await Self.expectAbandoned(file)
    }

    @Test("a call that returns after its budget (a finalizer kept it past it) is a timeout, never a success")
    func lateReturnIsTimeout() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, """
              local stop = os.time() + 2
              setmetatable({}, {__gc = function() while os.time() < stop do end end})
              collectgarbage()
              return true
            """)
        // A grace long enough for the finalizer (1–2 s) to end: the call returns, late.
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: 0.1), grace: 5)
        let result = await engine.call(LuaHookReference(path: file, function: "runaway"), arguments: [[:]], host: FakeHost(), label: "test")
        #expect(result.error?.kind == .timeout, "\(result.values) \(String(describing: result.error))")
        #expect(result.verdict.succeeded == false)
        #expect(result.error?.message.contains("the call returned after it") == true, "\(String(describing: result.error))")
        #expect(engine.replacements == 0)
    }

    @Test("the replacement loads the script version loaded before, not the file changed since; reload takes the new one")
    func replacementKeepsLoadedVersion() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, "  string.rep('', 2e9)\n  return true")
        let engine = try await Self.expectAbandoned(file)
        try Self.script(dir, "  return true", version: "v2")
        let fine = LuaHookReference(path: file, function: "fine")
        #expect(await engine.call(fine, arguments: [], host: FakeHost(), label: "test").values == ["v1"])
        #expect(await engine.reload(host: FakeHost()).allSatisfy { $0.error == nil })
        #expect(await engine.call(fine, arguments: [], host: FakeHost(), label: "test").values == ["v2"])
    }

    @Test("a main chunk stuck in a finalizer is abandoned at load; the engine goes on")
    func stuckLoad() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("stuck.lua", """
            local stop = os.time() + 4
            setmetatable({}, {__gc = function() while os.time() < stop do end end})
            collectgarbage()
            """)
        let other = try dir.write("other.lua", "return function() return 'ok' end\n")
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: Self.budget))
        let error = await engine.load(file, host: FakeHost())
        #expect(error?.kind == .timeout)
        #expect(error?.stage == .load)
        #expect(await engine.call(LuaHookReference(path: other), arguments: [], host: FakeHost(), label: "test").values == ["ok"])
    }

    @Test("a memory bomb in a finalizer run by the host's collection after a memory error stays under the cap")
    func finalizerMemoryBomb() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("bomb.lua", """
            function bomb()
              local guard = setmetatable({}, {__gc = function()
                local t = {}
                for i = 1, 400000 do t[i] = ("x"):rep(64) .. i end
                hoard = t
              end})
              local t = {}
              for i = 1, 1e9 do t[i] = ("y"):rep(64) .. i end
            end
            function held() return hoard ~= nil end
            """)
        let cap = 8 << 20
        let engine = try LuaEngine(limits: LuaLimits(timeout: 30, memoryMegabytes: 8))
        let result = await engine.run(file, "bomb")
        #expect(result.error?.kind == .memory, "\(String(describing: result.error))")
        let held = await engine.memoryInUse
        #expect(held <= cap, "\(held) bytes held under an 8 MB cap")
        #expect(result.peakMemory <= cap)
        #expect(await engine.run(file, "held").values == [false], "the finalizer could not build its hoard")
    }

    @Test("after 3 abandoned calls still running, calls fail at once without running until a reload")
    func runawayLimit() async throws {
        let dir = try ScriptFolder()
        let file = try Self.script(dir, """
              local stop = os.time() + 5
              setmetatable({}, {__gc = function() while os.time() < stop do end end})
              collectgarbage()
              return true
            """)
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: 0.1))
        let runaway = LuaHookReference(path: file, function: "runaway")
        for _ in 0..<WatchedLuaEngine.maxRunaways {
            #expect(await engine.call(runaway, arguments: [[:]], host: FakeHost(), label: "test").error?.message.contains("abandoned by the watchdog") == true)
        }
        #expect(engine.runawaysRunning == 3)
        let refused = await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test")
        #expect(refused.error?.kind == .timeout)
        #expect(refused.error?.message.hasPrefix("not run: 3 earlier calls abandoned by the watchdog are still running") == true,
                "\(String(describing: refused.error))")
        #expect(engine.replacements == 3)
        #expect(await engine.reload(host: FakeHost()).allSatisfy { $0.error == nil })
        #expect(engine.runawaysRunning == 0)
        #expect(await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test").values == ["v1"])
    }

    /// Thread id → (state, nice) of this process's threads (`/proc/self/task/*/stat`, fields 3 and 19).
    static func threads() -> [String: (state: String, nice: Int)] {
        var out: [String: (state: String, nice: Int)] = [:]
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 16, let nice = Int(fields[16]) { out[tid] = (String(fields[0]), nice) }
        }
        return out
    }

    @Test("a VM closed on reload whose finalizer loops runs on a thread of the lowest CPU priority")
    func closingThreadDeprioritized() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("close.lua", """
            local stop = os.time() + 3
            G = setmetatable({}, {__gc = function() while os.time() < stop do end end})
            function fine() return "v1" end
            """)
        let engine = WatchedLuaEngine(limits: LuaLimits(timeout: Self.budget, memoryMegabytes: 16))
        #expect(await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test").values == ["v1"])
        let before = Set(Self.threads().keys)
        _ = try dir.write("close.lua", "function fine() return \"v2\" end")
        _ = await engine.reload(also: [file], host: FakeHost())
        #expect(await engine.call(LuaHookReference(path: file, function: "fine"), arguments: [], host: FakeHost(), label: "test").values == ["v2"])
        // The closing VM's finalizer spins for 3 s on a new thread of its own: running (R) in every sample over
        // a quarter of a second (a thread that only starts up is not), at nice 19. Threads are told apart only
        // as new or not: the suite runs serially (scripts/test passes --no-parallel), as tests running beside
        // this one would add spinning threads of their own.
        var running: [String: Int] = [:]
        var nice: [String: Int] = [:]
        for sample in 0..<6 {
            for (tid, t) in Self.threads() where !before.contains(tid) && t.state == "R" {
                running[tid, default: 0] += 1
                nice[tid] = t.nice
            }
            if sample < 5 { try await Task.sleep(for: .milliseconds(50)) }
        }
        let spinning = running.filter { $0.value >= 5 }.map { nice[$0.key] ?? -1 }
        #expect(!spinning.isEmpty, "the closing thread was seen spinning")
        #expect(spinning.allSatisfy { $0 == 19 }, "nice values of the spinning threads: \(spinning)")
    }
}
