#include "CLuaShim.h"

int keel_lua_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
void keel_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
const char *keel_lua_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
void keel_lua_newtable(lua_State *L) { lua_newtable(L); }
int keel_lua_loadbuffer(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbuffer(L, buf, len, chunkname);
}
int keel_lua_isfunction(lua_State *L, int idx) { return lua_isfunction(L, idx); }
int keel_lua_registryindex(void) { return LUA_REGISTRYINDEX; }
int keel_lua_upvalueindex(int i) { return lua_upvalueindex(i); }
