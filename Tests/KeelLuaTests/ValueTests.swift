import Testing
@testable import KeelLua

/// Values, JSON, hook references and the verdict of a call.
@Suite("Lua values and references")
struct ValueTests {
    @Test("hook references parse lua:PATH and lua:PATH#name, relative to a folder")
    func references() {
        #expect(LuaHookReference(parsing: "lua:/etc/keel/v.lua#validate") == LuaHookReference(path: "/etc/keel/v.lua", function: "validate"))
        #expect(LuaHookReference(parsing: "  lua:hooks/n.lua", relativeTo: "/etc/keel") == LuaHookReference(path: "/etc/keel/hooks/n.lua"))
        #expect(LuaHookReference(parsing: "lua:/x.lua#") == LuaHookReference(path: "/x.lua"))
        #expect(LuaHookReference(parsing: "/usr/bin/true") == nil)
        #expect(LuaHookReference(parsing: "lua:") == nil)
        #expect(LuaHookReference(path: "/x.lua", function: "f").description == "lua:/x.lua#f")
    }

    @Test("verdicts: true allows, false with a reason refuses, anything else refuses saying what came back")
    func verdicts() {
        func verdict(_ values: [LuaValue]) -> (Bool, String?) {
            let v = LuaCallResult(values: values, error: nil, seconds: 0, logs: [], peakMemory: 0).verdict
            return (v.succeeded, v.reason)
        }
        #expect(verdict([true]) == (true, nil))
        #expect(verdict([false, "lag too high"]) == (false, "lag too high"))
        #expect(verdict([false]) == (false, "returned false"))
        #expect(verdict([]).0 == false)
        #expect(verdict(["yes"]).1?.contains("returned \"yes\"") == true)
    }

    @Test("JSON round trip keeps integers, numbers, strings, arrays and tables")
    func json() throws {
        let value: LuaValue = ["a": [1, 2.5, "x\n\"y\""], "b": ["c": true], "n": nil]
        let text = LuaJSON.encode(value)
        #expect(text == "{\"a\":[1,2.5,\"x\\n\\\"y\\\"\"],\"b\":{\"c\":true}}")
        #expect(try LuaJSON.decode(text) == value)
        #expect(throws: LuaJSON.DecodeError.self) { try LuaJSON.decode("{") }
    }
}
