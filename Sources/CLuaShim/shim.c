/* Plain wrappers of Lua 5.4's function-like macros (see include/CLuaShim.h). */
#include "CLuaShim.h"

int keel_lua_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
void keel_lua_pop(lua_State *L, int n) { lua_pop(L, n); }
const char *keel_lua_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
void keel_lua_newtable(lua_State *L) { lua_newtable(L); }
int keel_lua_loadbuffer(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbuffer(L, buf, len, chunkname);
}
int keel_lua_loadtext(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbufferx(L, buf, len, chunkname, "t");
}
int keel_lua_isfunction(lua_State *L, int idx) { return lua_isfunction(L, idx); }
int keel_lua_istable(lua_State *L, int idx) { return lua_istable(L, idx); }
int keel_lua_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
int keel_lua_registryindex(void) { return LUA_REGISTRYINDEX; }
int keel_lua_upvalueindex(int i) { return lua_upvalueindex(i); }
void keel_lua_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void keel_lua_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void keel_lua_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
size_t keel_lua_gc_bytes(lua_State *L) {
    return (size_t)lua_gc(L, LUA_GCCOUNT) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB);
}
