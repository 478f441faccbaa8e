#ifndef KEEL_CLUASHIM_H
#define KEEL_CLUASHIM_H
/* C wrappers for Lua 5.4's function-like macros, which Swift cannot import (see shared/NOTES.md).
   Every wrapper is a plain function; none raises a Lua error from a Swift frame. */
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

/* lua_pcall(L, nargs, nresults, msgh) */
int keel_lua_pcall(lua_State *L, int nargs, int nresults, int msgh);
/* lua_pop(L, n) */
void keel_lua_pop(lua_State *L, int n);
/* lua_tostring(L, idx); NULL when the value is not a string or number */
const char *keel_lua_tostring(lua_State *L, int idx);
/* lua_newtable(L) */
void keel_lua_newtable(lua_State *L);
/* luaL_loadbuffer(L, buf, len, chunkname): loads a chunk without running it */
int keel_lua_loadbuffer(lua_State *L, const char *buf, size_t len, const char *chunkname);
/* lua_isfunction(L, idx) */
int keel_lua_isfunction(lua_State *L, int idx);
/* LUA_REGISTRYINDEX */
int keel_lua_registryindex(void);
/* lua_upvalueindex(i) */
int keel_lua_upvalueindex(int i);
#endif
