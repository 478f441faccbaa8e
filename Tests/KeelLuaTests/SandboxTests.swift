import Foundation
import Testing
@testable import KeelLua

/// The library set scripts see: what is there, what is not, and that scripts cannot reach each other.
@Suite("Lua sandbox")
struct SandboxTests {
    @Test("forbidden functions are absent; allowed ones are there")
    func forbiddenAbsent() async throws {
        let dir = try ScriptFolder()
        let names = Sandbox.forbidden.map { "\"\($0)\"" }.joined(separator: ", ")
        let file = try dir.write("probe.lua", """
            local function lookup(path)
              local v = _ENV
              for part in path:gmatch("[^.]+") do
                if type(v) ~= "table" then return nil end
                v = v[part]
              end
              return v
            end
            return function()
              local present = {}
              for _, name in ipairs({\(names)}) do
                if lookup(name) ~= nil then present[#present + 1] = name end
              end
              local allowed = {}
              for _, name in ipairs({"string.format", "table.concat", "math.floor", "utf8.len", "os.time", "os.clock",
                                     "os.date", "os.getenv", "io.open", "io.lines", "pcall", "keel.query", "keel.json.encode"}) do
                if lookup(name) == nil then allowed[#allowed + 1] = name end
              end
              return table.concat(present, ","), table.concat(allowed, ",")
            end
            """)
        let engine = try LuaEngine()
        let result = await engine.run(file)
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.values == [.string(""), .string("")], "present forbidden, missing allowed: \(result.values)")
    }

    @Test("load takes text chunks only; without env a chunk sees no globals")
    func textOnlyLoad() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("load.lua", """
            return function()
              local binary, err = load(string.dump(function() return 1 end))
              local text = load("return 40 + 2")
              local sees = load("return string")()
              return binary == nil, tostring(err):find("binary") ~= nil, text(), sees == nil
            end
            """)
        let result = try await LuaEngine().run(file)
        #expect(result.values == [true, true, 42, true], "\(result.values) \(String(describing: result.error))")
    }

    @Test("each script has its own globals and library copies; the string metatable is locked")
    func isolation() async throws {
        let dir = try ScriptFolder()
        let a = try dir.write("a.lua", """
            shared = "from a"
            string.upper = nil
            keel.log = nil
            function check() return getmetatable("") end
            """)
        let b = try dir.write("b.lua", """
            function check() return shared, ("x"):upper(), string.upper("y"), type(keel.log) end
            """)
        let engine = try LuaEngine()
        let ra = await engine.run(a, "check")
        #expect(ra.values == [false])
        let rb = await engine.run(b, "check")
        #expect(rb.values == [.null, "X", "Y", "table"], "\(rb.values) \(String(describing: rb.error))")
    }

    @Test("io works for files")
    func ioFiles() async throws {
        let dir = try ScriptFolder()
        let out = dir.path + "/out.txt"
        let file = try dir.write("io.lua", """
            return function(ctx)
              local f = assert(io.open(ctx.path, "a"))
              f:write("line ", ctx.n, "\\n")
              f:close()
              local n = 0
              for _ in io.lines(ctx.path) do n = n + 1 end
              return n
            end
            """)
        let engine = try LuaEngine()
        _ = await engine.run(file, context: ["path": .string(out), "n": 1])
        let result = await engine.run(file, context: ["path": .string(out), "n": 2])
        #expect(result.values == [2])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "line 1\nline 2\n")
    }
}
