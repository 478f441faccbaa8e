import Foundation
import Testing
@testable import KeelLua

/// Errors carry stage, kind, file, line and traceback; reload keeps the previous script on failure.
@Suite("Lua errors and reload")
struct ErrorTests {
    @Test("a syntax error is reported at load with its line")
    func syntaxError() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("broken.lua", "local a = 1\nlocal b = 2\nlocal c = = 3\nreturn function() end\n")
        let result = try await LuaEngine().run(file)
        let error = try #require(result.error)
        #expect(error.stage == .load)
        #expect(error.kind == .syntax)
        #expect(error.file == file)
        #expect(error.line == 3)
        #expect(error.message.contains("unexpected symbol"))
        #expect(error.description.hasPrefix("lua load error in \(file):3: "))
    }

    @Test("a missing function is named")
    func missingFunction() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("hooks.lua", "function validate() return true end\nreturn { other = function() end }\n")
        let engine = try LuaEngine()
        let result = await engine.run(file, "promote")
        #expect(result.error?.kind == .missingFunction)
        #expect(result.error?.message.contains("\"promote\"") == true)
        // The global wins, the returned table's field is found too; the bare form wants a returned function.
        #expect(await engine.run(file, "validate").values == [true])
        #expect(await engine.run(file, "other").error == nil)
        let bare = await engine.run(file)
        #expect(bare.error?.kind == .missingFunction)
        #expect(bare.error?.message.contains("returns a table") == true)
    }

    @Test("an unreadable file is a load error naming it")
    func missingFile() async throws {
        let result = try await LuaEngine().run("/nonexistent/hook.lua")
        #expect(result.error?.kind == .file)
        #expect(result.error?.message.contains("/nonexistent/hook.lua") == true)
    }

    @Test("an error inside a hook carries file, line and traceback")
    func runtimeError() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("fails.lua", """
            local function inner(ctx)
              local x = ctx.missing.field
            end
            function outer(ctx)
              inner(ctx)
            end
            function raise() error("boom") end
            function raise_table() error({code = 7}) end
            """)
        let engine = try LuaEngine()
        let result = await engine.run(file, "outer")
        let error = try #require(result.error)
        #expect(error.stage == .run)
        #expect(error.kind == .runtime)
        #expect(error.file == file)
        #expect(error.line == 2)
        #expect(error.message.contains("attempt to index a nil value (field 'missing')"))
        let traceback = try #require(error.traceback)
        #expect(traceback.contains("stack traceback:"))
        #expect(traceback.contains("fails.lua:5"), "the caller's line: \(traceback)")
        let boom = await engine.run(file, "raise")
        #expect(boom.error?.line == 7)
        #expect(boom.error?.message == "boom")
        let table = await engine.run(file, "raise_table")
        #expect(table.error?.message == "(error object is a table value)")
        #expect(table.error?.line == 8)
    }

    @Test("a keel.* failure is a Lua error at the calling line")
    func hostError() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("q.lua", "return function()\n  return keel.query(1, 'SELECT 1')\nend\n")
        let host = FakeHost()
        host.queryError = "connection refused"
        let result = try await LuaEngine().run(file, host: host)
        #expect(result.error?.line == 2)
        #expect(result.error?.message == "keel.query: connection refused")
        // A pcall in the script can handle it.
        let handled = try dir.write("h.lua", "return function() local ok, e = pcall(keel.query, 1, 'x'); return ok, e end\n")
        let caught = try await LuaEngine().run(handled, host: host)
        #expect(caught.values.first == false)
        #expect(caught.values.last?.stringValue?.contains("keel.query: connection refused") == true)
    }

    @Test("reload keeps the old script when the new one does not compile, and takes a fixed one")
    func reloadKeepsOld() async throws {
        let dir = try ScriptFolder()
        let file = try dir.write("v.lua", "function version() return 1 end\n")
        let engine = try LuaEngine()
        let host = FakeHost()
        #expect(await engine.run(file, "version").values == [1])
        try dir.write("v.lua", "function version() return 2 end end\n")
        let reports = await engine.reload(host: host)
        #expect(reports.count == 1)
        #expect(reports[0].keptPrevious)
        #expect(reports[0].error?.kind == .syntax)
        #expect(reports[0].error?.line == 1)
        #expect(await engine.run(file, "version").values == [1])
        try dir.write("v.lua", "error('refuses to load')\n")
        let runtime = await engine.reload(host: host)
        #expect(runtime[0].keptPrevious && runtime[0].error?.stage == .load)
        #expect(await engine.run(file, "version").values == [1])
        try dir.write("v.lua", "function version() return 3 end\n")
        #expect(await engine.reload(host: host)[0].error == nil)
        #expect(await engine.run(file, "version").values == [3])
    }

    @Test("Lua's location prefix is split off messages")
    func splitLocation() {
        #expect(LuaError.splitLocation("/a/b.lua:12: boom: x")! == ("/a/b.lua", 12, "boom: x"))
        #expect(LuaError.splitLocation("C:/x.lua:3: y")! == ("C:/x.lua", 3, "y"))
        #expect(LuaError.splitLocation("no location") == nil)
    }
}
