import Foundation
import Testing
@testable import KeelLua

/// The time budget (instruction-count hook in C) and the memory cap (capped allocator in C).
@Suite("Lua limits")
struct LimitTests {
    @Test("while true do end ends with a timeout error at its line, and the VM goes on")
    func infiniteLoop() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("loop.lua", """
            function spin()
              while true do end
            end
            function fine() return "still here" end
            """)
        let engine = try LuaEngine(limits: LuaLimits(timeout: 0.2))
        let result = await engine.run(file, "spin")
        let error = try #require(result.error)
        #expect(error.kind == .timeout)
        #expect(error.stage == .run)
        #expect(error.file == file)
        #expect(error.line == 2)
        #expect(error.message.contains("time budget of 200 ms exceeded"))
        #expect(result.seconds >= 0.2 && result.seconds < 2, "\(result.seconds)")
        #expect(await engine.run(file, "fine").values == ["still here"])
    }

    @Test("pcall (and coroutines) cannot swallow the timeout", arguments: [
        "while true do pcall(function() while true do end end) end",
        "local ok = pcall(function() while true do end end); return 'swallowed'",
        "local ok = xpcall(function() while true do end end, function(e) return e end); return 'swallowed'",
        "local co = coroutine.create(function() while true do end end); coroutine.resume(co); return 'swallowed'",
        "while true do local ok = pcall(error, 'x') end",
    ])
    func pcallCannotSwallow(body: String) async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("swallow.lua", "return function()\n\(body)\nend\n")
        let result = try await LuaEngine(limits: LuaLimits(timeout: 0.2)).run(file)
        #expect(result.error?.kind == .timeout, "\(result.values) \(String(describing: result.error))")
    }

    @Test("keel.sleep past the budget ends the call with the timeout")
    func sleepBounded() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("sleep.lua", "return function() keel.sleep(30); return 'woke' end\n")
        let result = try await LuaEngine(limits: LuaLimits(timeout: 0.3)).run(file)
        #expect(result.error?.kind == .timeout)
        #expect(result.seconds < 2)
    }

    @Test("a main chunk that never ends fails to load with a timeout")
    func loadBudget() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("stuck.lua", "while true do end\n")
        let error = try await LuaEngine(limits: LuaLimits(timeout: 0.2)).load(file, host: FakeHost())
        #expect(error?.stage == .load)
        #expect(error?.kind == .timeout)
    }

    @Test("the memory cap ends the call with a memory error; the VM stays usable")
    func memoryCap() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("hog.lua", """
            function hog()
              local t = {}
              for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
            end
            function small() local t = {} for i = 1, 1000 do t[i] = i end return #t end
            """)
        let engine = try LuaEngine(limits: LuaLimits(timeout: 30, memoryMegabytes: 8))
        let result = await engine.run(file, "hog")
        let error = try #require(result.error)
        #expect(error.kind == .memory, "\(error)")
        #expect(error.message.contains("not enough memory"))
        #expect(result.peakMemory <= 8 << 20)
        #expect(await engine.run(file, "small").values == [1000])
        #expect(await engine.memoryInUse < 8 << 20)
    }
}
