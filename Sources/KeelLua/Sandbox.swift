import CLua
import CLuaShim

/// The library set scripts see by allow-list as redis does (`script_lua.c`:
/// `luaLoadLibraries`, `lua_builtins_allow_list`): `base` without `dofile`, `loadfile`, `require` and with a
/// text-only `load`; `coroutine`, `string`, `table`, `math`, `utf8` whole (coroutines inherit the budget
/// hook); `os.time/clock/date/difftime/getenv` only;
/// `io` for files (no `io.popen`). `package`, `debug`, `os.execute`, `os.exit`, `os.remove` … are absent.
/// `print` writes to the hook's log (`keel.log.info`).
///
/// Each script runs in a VM of its own (`ScriptVM`), so no state is shared between scripts at all (the `io`
/// file-handle metatable, `io.output`, the random state, the collector). Within its VM the script gets an
/// environment: the allowed base functions, its own copies of the library tables and of the `keel` module,
/// and `_G` pointing at itself. The string metatable is locked (`getmetatable("")` returns `false`), and
/// `collectgarbage` only collects or reports (`"collect"`, `"step"`, `"count"`, `"isrunning"`): the host
/// runs the collector only inside calls, under the memory cap, and a script may not stop it or change its mode.
/// `xpcall`'s message handler is not called once the budget has expired (Lua would run it with hooks off,
/// beyond the budget's reach).
enum Sandbox {
    /// Base functions copied into every environment.
    static let baseFunctions = [
        "assert", "collectgarbage", "error", "getmetatable", "ipairs", "load", "next", "pairs", "pcall", "rawequal",
        "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION",
    ]

    /// Library tables copied into every environment, with their allowed fields (`nil` = every field).
    static let libraries: [(name: String, fields: [String]?)] = [
        ("coroutine", nil), ("string", nil), ("table", nil), ("math", nil), ("utf8", nil),
        ("os", ["clock", "date", "difftime", "getenv", "time"]),
        ("io", ["close", "input", "lines", "open", "output", "read", "stderr", "stdin", "stdout", "type", "write"]),
    ]

    /// Names that must not exist in a script's environment (checked by the tests).
    static let forbidden = [
        "dofile", "loadfile", "require", "package", "debug", "os.execute", "os.exit", "os.remove", "os.rename",
        "os.tmpname", "os.setlocale", "io.popen", "io.tmpfile",
    ]
}

extension LuaState {
    /// Opens the allowed standard libraries into the VM's global table (the template environments are
    /// copied from; scripts never see it), installs the text-only `load` and locks the string metatable.
    func openSandbox() {
        keel_lua_open_allowed_libs(L)
        keel_lua_pushglobaltable(L)
        keel_lua_install_safe_load(L, -1)
        keel_lua_install_safe_collectgarbage(L, -1)
        keel_lua_install_safe_xpcall(L, -1)
        stack.rawField("coroutine", of: -1)
        keel_lua_install_safe_resume(L, -1)
        lua_settop(L, -3)
        stack.push(string: "")
        if lua_getmetatable(L, -1) != 0 {
            lua_pushboolean(L, 0)
            stack.setRawField("__metatable", of: -2)
            lua_settop(L, -2)
        }
        lua_settop(L, -2)
    }

    /// Pushes a fresh environment for one script (see `Sandbox`), with `extras` (name → a value pushed by
    /// the closure) added, e.g. the `keel` module and `print`.
    func pushEnvironment(extras: [(String, (LuaState) -> Void)]) {
        let s = stack
        keel_lua_pushglobaltable(L)
        let globals = s.top
        lua_createtable(L, 0, Int32(Sandbox.baseFunctions.count + Sandbox.libraries.count + extras.count + 1))
        let env = s.top
        for name in Sandbox.baseFunctions {
            s.rawField(name, of: globals)
            s.setRawField(name, of: env)
        }
        for (name, fields) in Sandbox.libraries {
            s.rawField(name, of: globals)
            let library = s.top
            lua_createtable(L, 0, 16)
            let copy = s.top
            if let fields {
                for field in fields {
                    s.rawField(field, of: library)
                    s.setRawField(field, of: copy)
                }
            } else {
                lua_pushnil(L)
                while lua_next(L, library) != 0 {
                    lua_pushvalue(L, -2)
                    lua_rotate(L, -2, 1)
                    lua_rawset(L, copy)
                }
            }
            s.setRawField(name, of: env)
            lua_settop(L, library - 1)
        }
        lua_pushvalue(L, env)
        s.setRawField("_G", of: env)
        for (name, push) in extras {
            push(self)
            s.setRawField(name, of: env)
        }
        lua_rotate(L, globals, -1)
        lua_settop(L, -2)
    }
}
