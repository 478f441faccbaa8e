import CLua
import CLuaShim

/// Moving values between Swift and one Lua thread's stack (the main state, or the coroutine a `keel.*`
/// function was called from).
///
/// Every method uses only Lua API calls that cannot raise a Lua error while the memory cap is lifted
/// (`keel_lua_host.enforce == 0`, which is how Swift code runs: building arguments before a call, and inside
/// the trampoline): raw table access (`lua_rawget`, `lua_rawset`, `lua_next`), `lua_to*`, pushes. It never
/// calls metamethods, so no Lua code runs inside a Swift frame (a Lua error must never unwind
/// a Swift frame).
struct LuaStack {
    /// The `lua_State*` of the thread.
    let L: OpaquePointer

    /// Index of the top element (= number of elements).
    var top: Int32 { lua_gettop(L) }

    /// Sets the top (drops or pads with `nil`).
    func setTop(_ index: Int32) { lua_settop(L, index) }

    /// Pushes `value` (see `LuaValue` for the mapping).
    func push(_ value: LuaValue) {
        _ = lua_checkstack(L, 4)
        switch value {
        case .null: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s), .opaque(let s): push(string: s)
        case .array(let items):
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (i, item) in items.enumerated() {
                push(item)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .table(let fields):
            lua_createtable(L, 0, Int32(clamping: fields.count))
            for (key, item) in fields {
                push(string: key)
                push(item)
                lua_rawset(L, -3)
            }
        }
    }

    /// Pops the top value into the registry (shared by every thread of the VM) and returns its reference.
    func ref() -> Int32 { luaL_ref(L, keel_lua_registryindex()) }

    /// Pushes the registry value of reference `ref`.
    func push(ref: Int32) { lua_rawgeti(L, keel_lua_registryindex(), lua_Integer(ref)) }

    /// Pushes `s` as a Lua string (its UTF-8 bytes; embedded NULs kept).
    func push(string s: String) {
        var s = s
        s.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    /// The value at `index` (see `LuaValue` for the mapping).
    func value(at index: Int32) -> LuaValue {
        var seen = Set<UnsafeRawPointer>()
        return value(at: lua_absindex(L, index), depth: 0, seen: &seen)
    }

    /// The values from `first` to the top.
    func values(from first: Int32) -> [LuaValue] {
        guard first <= top else { return [] }
        return (first...top).map { value(at: $0) }
    }

    /// The string at `index` when it is a string (a number is not converted); `nil` otherwise.
    func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let p = lua_tolstring(L, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self)
    }

    /// The integer at `index` when it is a number with an integral value; `nil` otherwise.
    func integer(at index: Int32) -> Int64? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        var ok: Int32 = 0
        let i = lua_tointegerx(L, index, &ok)
        return ok != 0 ? Int64(i) : nil
    }

    /// The number at `index` when it is a number; `nil` otherwise.
    func number(at index: Int32) -> Double? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        return lua_tonumberx(L, index, nil)
    }

    /// Lua's type name of the value at `index` (`"nil"`, `"table"`, …; `"no value"` past the top).
    func typeName(at index: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, index)))
    }

    /// Pushes `table[key]` without metamethods (`nil` when `table` is not a table) and returns its type.
    @discardableResult
    func rawField(_ key: String, of table: Int32) -> Int32 {
        let t = lua_absindex(L, table)
        guard lua_type(L, t) == LUA_TTABLE else { lua_pushnil(L); return LUA_TNIL }
        push(string: key)
        return lua_rawget(L, t)
    }

    /// Sets `table[key]` = the value on top (popped), without metamethods.
    func setRawField(_ key: String, of table: Int32) {
        let t = lua_absindex(L, table)
        push(string: key)
        lua_rotate(L, -2, 1)
        lua_rawset(L, t)
    }

    private func value(at index: Int32, depth: Int, seen: inout Set<UnsafeRawPointer>) -> LuaValue {
        let type = lua_type(L, index)
        switch type {
        case LUA_TNIL, LUA_TNONE: return .null
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(Int64(lua_tointegerx(L, index, nil))) }
            return .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(string(at: index) ?? "")
        case LUA_TTABLE: return table(at: index, depth: depth, seen: &seen)
        default: return .opaque(String(cString: lua_typename(L, type)))
        }
    }

    private func table(at index: Int32, depth: Int, seen: inout Set<UnsafeRawPointer>) -> LuaValue {
        guard depth < LuaValue.maxDepth, let identity = lua_topointer(L, index), !seen.contains(identity),
              lua_checkstack(L, 4) != 0 else { return .opaque("table") }
        seen.insert(identity)
        defer { seen.remove(identity) }
        var integerKeyed: [(Int64, LuaValue)] = []
        var named: [String: LuaValue] = [:]
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let item = value(at: lua_gettop(L), depth: depth + 1, seen: &seen)
            switch lua_type(L, -2) {
            case LUA_TNUMBER:
                if lua_isinteger(L, -2) != 0 {
                    integerKeyed.append((Int64(lua_tointegerx(L, -2, nil)), item))
                } else {
                    named[LuaJSON.number(lua_tonumberx(L, -2, nil))] = item
                }
            case LUA_TSTRING: named[string(at: -2) ?? ""] = item
            case LUA_TBOOLEAN: named[lua_toboolean(L, -2) != 0 ? "true" : "false"] = item
            default: named["<\(typeName(at: -2))>"] = item
            }
            lua_settop(L, -2)
        }
        if named.isEmpty, !integerKeyed.isEmpty {
            let sorted = integerKeyed.sorted { $0.0 < $1.0 }
            if sorted.enumerated().allSatisfy({ $0.offset + 1 == $0.element.0 }) { return .array(sorted.map(\.1)) }
        }
        for (key, item) in integerKeyed { named[String(key)] = item }
        return .table(named)
    }
}
