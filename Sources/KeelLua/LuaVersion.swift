import CLua
import CLuaShim

/// The Lua interpreter Keel links (liblua5.4). The hook runtime is built on this module.
public enum LuaRuntime {
    /// `LUA_VERSION_NUM` of the linked library as reported at run time by `lua_version` (504 for Lua 5.4).
    public static var versionNumber: Int {
        guard let state = luaL_newstate() else { return 0 }
        defer { lua_close(state) }
        return Int(lua_version(state))
    }
}
