import Foundation
import Testing
@testable import KeelLua

/// Scripts share nothing: each runs in a VM of its own, so what one changes in the `io` library, the random
/// generator or the collector never reaches another; the collector's mode is the host's, not the script's.
@Suite("Lua isolation between scripts")
struct IsolationTests {
    @Test("a script replacing the file-handle methods does not change another script's files")
    func fileHandleMethods() async throws {
        let dir = try ScriptFolder()
        let tamper = try dir.write("tamper.lua", """
            return function()
              local methods = getmetatable(io.stdout).__index
              methods.write = function() return "tampered" end
              return true
            end
            """)
        let victim = try dir.write("victim.lua", """
            return function(ctx)
              local f = assert(io.open(ctx.path, "w"))
              local result = f:write("data")
              f:close()
              return result == f
            end
            """)
        let engine = try LuaEngine()
        #expect(await engine.run(tamper).values == [true])
        #expect(await engine.run(victim, context: ["path": .string(dir.path + "/out.txt")]).values == [true])
        #expect(try String(contentsOfFile: dir.path + "/out.txt", encoding: .utf8) == "data")
    }

    @Test("io.output set by one script is not another script's default output")
    func defaultOutput() async throws {
        let dir = try ScriptFolder()
        let redirect = try dir.write("redirect.lua", "return function(ctx) io.output(ctx.path) return true end\n")
        let victim = try dir.write("victim.lua", "return function() return io.output() == io.stdout end\n")
        let engine = try LuaEngine()
        #expect(await engine.run(redirect, context: ["path": .string(dir.path + "/captured.txt")]).values == [true])
        #expect(await engine.run(victim).values == [true])
    }

    @Test("math.randomseed in one script does not fix another script's random numbers")
    func randomState() async throws {
        let dir = try ScriptFolder()
        let seeder = try dir.write("seeder.lua", "return function() math.randomseed(42) return true end\n")
        let victim = try dir.write("victim.lua", "return function() return math.random(1, 1 << 50) end\n")
        let engine = try LuaEngine()
        #expect(await engine.run(seeder).values == [true])
        let first = await engine.run(victim).values
        #expect(await engine.run(seeder).values == [true])
        let second = await engine.run(victim).values
        #expect(first != second, "the victim's sequence went on, it was not reseeded")
    }

    @Test("collectgarbage may collect and report, but not stop the collector or change its mode", arguments: [
        "stop", "restart", "incremental", "generational", "setpause", "setstepmul",
    ])
    func collectorLocked(option: String) async throws {
        let dir = try ScriptFolder()
        let tamper = try dir.write("tamper.lua", "return function() collectgarbage('\(option)') return true end\n")
        let victim = try dir.write("victim.lua", """
            return function() collectgarbage(); collectgarbage("step"); return collectgarbage("isrunning"), collectgarbage("count") > 0 end
            """)
        let engine = try LuaEngine()
        let refused = await engine.run(tamper)
        #expect(refused.error?.message.contains("collectgarbage(\"\(option)\") is not allowed") == true, "\(refused.values) \(String(describing: refused.error))")
        #expect(await engine.run(victim).values == [true, true])
    }
}
