/* Calls from Lua into Swift, the message handler, the text-only `load` and the library set.
   Copied behaviour: HAProxy hlua.c (errors raised only from C: WILL_LJMP), redis script_lua.c
   (luaLoadLibraries: a fixed list of libraries, no package/debug) and its error tables
   {err=, source=, line=} (luaExtractErrorInformation). */
#include <string.h>
#include "CLuaShim.h"

int keel_lua_check_deadline(lua_State *L);

static int keel_lua_trampoline(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    if (keel_lua_is_cancelled(h)) return luaL_error(L, "call abandoned by the watchdog");
    int fn = (int)lua_tointeger(L, lua_upvalueindex(1));
    int enforce = h->enforce;
    /* Swift pushes results: an allocation must not raise inside a Swift frame, so the cap is lifted, and the
       collector is stopped so that no finalizer (Lua code) runs while it is. -1: inside a finalizer, where
       the collector is held anyway. */
    int running = lua_gc(L, LUA_GCISRUNNING);
    if (running == 1) lua_gc(L, LUA_GCSTOP);
    h->enforce = 0;
    int n = h->dispatch(L, h->context, fn);
    h->enforce = enforce;
    if (running == 1) lua_gc(L, LUA_GCRESTART);
    if (keel_lua_is_cancelled(h)) {
        lua_settop(L, 0);
        return luaL_error(L, "call abandoned by the watchdog");
    }
    if (n == KEEL_LUA_RAISE) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    if (enforce && h->limit && h->used > h->limit) {
        h->refused = 1;
        lua_settop(L, 0);
        return luaL_error(L, "not enough memory (lua_memory_limit of %d MB reached)", (int)(h->limit >> 20));
    }
    if (enforce) keel_lua_check_deadline(L);
    return n;
}

void keel_lua_push_host_function(lua_State *L, int fn) {
    lua_pushinteger(L, fn);
    lua_pushcclosure(L, keel_lua_trampoline, 1);
}

int keel_lua_msgh(lua_State *L) {
    const char *message;
    if (lua_type(L, 1) == LUA_TSTRING) {
        message = lua_tostring(L, 1);
    } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        message = lua_tostring(L, -1);
    } else {
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    lua_createtable(L, 0, 4);
    int t = lua_gettop(L);
    lua_pushstring(L, message);
    lua_setfield(L, t, "message");
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            lua_pushstring(L, ar.short_src);
            lua_setfield(L, t, "source");
            lua_pushinteger(L, ar.currentline);
            lua_setfield(L, t, "line");
            break;
        }
    }
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, t, "traceback");
    lua_settop(L, t);
    return 1;
}

void keel_lua_push_msgh(lua_State *L) { lua_pushcfunction(L, keel_lua_msgh); }

/* load(chunk [, chunkname [, mode [, env]]]) with mode "t" and an empty env by default. */
static int keel_lua_safe_load(lua_State *L) {
    lua_settop(L, 4);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    if (lua_isnil(L, 4)) {
        lua_newtable(L);
        lua_replace(L, 4);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces table[name] (the table at `index`) with `wrapper`, which keeps the original as upvalue 1. */
static void keel_lua_wrap_field(lua_State *L, int index, const char *name, lua_CFunction wrapper) {
    index = lua_absindex(L, index);
    lua_getfield(L, index, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, index, name);
}

void keel_lua_install_safe_load(lua_State *L, int index) {
    keel_lua_wrap_field(L, index, "load", keel_lua_safe_load);
}

/* coroutine.resume(co, ...) that re-raises the budget error in the resuming thread: resume catches errors
   like pcall, and the hook's per-line re-arming applies to the coroutine's thread only. */
static int keel_lua_safe_resume(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    if (keel_lua_host_of(L)->expired) keel_lua_check_deadline(L);
    return lua_gettop(L);
}

void keel_lua_install_safe_resume(lua_State *L, int index) {
    index = lua_absindex(L, index);
    lua_getfield(L, index, "resume");
    lua_pushcclosure(L, keel_lua_safe_resume, 1);
    lua_setfield(L, index, "resume");
}

/* The message handler given to xpcall, wrapped: once the budget has expired (or the VM was cancelled) the
   script's handler is not called and the error passes through as is. The count hook raises the budget error
   from inside a hook, where Lua runs the message handler with hooks off: a handler that loops would be
   beyond the budget's reach. */
static int keel_lua_guarded_msgh(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    if (h->expired || keel_lua_is_cancelled(h)) return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* xpcall(f, msgh, ...) with msgh wrapped by keel_lua_guarded_msgh. */
static int keel_lua_safe_xpcall(lua_State *L) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, keel_lua_guarded_msgh, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

void keel_lua_install_safe_xpcall(lua_State *L, int index) {
    keel_lua_wrap_field(L, index, "xpcall", keel_lua_safe_xpcall);
}

/* collectgarbage([opt [, arg]]) limited to options that change nothing another call relies on. */
static int keel_lua_safe_collectgarbage(lua_State *L) {
    const char *option = luaL_optstring(L, 1, "collect");
    static const char *const allowed[] = {"collect", "step", "count", "isrunning", NULL};
    for (const char *const *a = allowed; *a; a++) {
        if (strcmp(option, *a) == 0) {
            int n = lua_gettop(L);
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_insert(L, 1);
            lua_call(L, n, LUA_MULTRET);
            return lua_gettop(L);
        }
    }
    return luaL_error(L, "collectgarbage(\"%s\") is not allowed in Keel hooks (the host owns the collector); "
                         "allowed: \"collect\", \"step\", \"count\", \"isrunning\"", option);
}

void keel_lua_install_safe_collectgarbage(lua_State *L, int index) {
    index = lua_absindex(L, index);
    lua_getfield(L, index, "collectgarbage");
    lua_pushcclosure(L, keel_lua_safe_collectgarbage, 1);
    lua_setfield(L, index, "collectgarbage");
}

void keel_lua_open_allowed_libs(lua_State *L) {
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_OSLIBNAME, luaopen_os},
        {LUA_IOLIBNAME, luaopen_io},
        {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
}
