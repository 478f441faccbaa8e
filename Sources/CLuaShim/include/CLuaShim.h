#ifndef KEEL_CLUASHIM_H
#define KEEL_CLUASHIM_H
/* C wrappers for Lua 5.4's function-like macros, which Swift cannot import,
   and the parts of Keel's Lua host that must be C because they raise Lua errors (longjmp): the
   capped allocator, the time-budget count hook, the trampoline that calls into Swift, the message
   handler and the text-only `load`.

   Rule (HAProxy's WILL_LJMP): no function here that a Swift frame calls raises a Lua
   error, except keel_lua_pcall's callee running inside the protected call. Errors wanted by Swift
   code are returned as a status and raised by C after Swift has returned. */
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

/* ---- plain wrappers of macros ---- */

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
/* luaL_loadbufferx(L, buf, len, chunkname, "t"): loads a text chunk only (binary chunks refused) */
int keel_lua_loadtext(lua_State *L, const char *buf, size_t len, const char *chunkname);
/* lua_isfunction(L, idx) */
int keel_lua_isfunction(lua_State *L, int idx);
/* lua_istable(L, idx) */
int keel_lua_istable(lua_State *L, int idx);
/* lua_isnil / lua_isnoneornil(L, idx) */
int keel_lua_isnoneornil(lua_State *L, int idx);
/* LUA_REGISTRYINDEX */
int keel_lua_registryindex(void);
/* lua_upvalueindex(i) */
int keel_lua_upvalueindex(int i);
/* lua_insert(L, idx) */
void keel_lua_insert(lua_State *L, int idx);
/* lua_remove(L, idx) */
void keel_lua_remove(lua_State *L, int idx);
/* lua_pushglobaltable(L) */
void keel_lua_pushglobaltable(lua_State *L);
/* lua_gc(L, LUA_GCCOUNT) * 1024 + lua_gc(L, LUA_GCCOUNTB): bytes in use as the collector counts them */
size_t keel_lua_gc_bytes(lua_State *L);

/* ---- the host: allocator state, budget, dispatch into Swift ---- */

/* Swift's entry point for every `keel.*` function (and `print`): `fn` is the function's number, `context`
   the host's opaque pointer. Returns the number of results pushed, or KEEL_LUA_RAISE with the error value
   pushed on top (the trampoline raises it once Swift has returned). Must not raise a Lua error itself:
   it uses only raw accessors (lua_rawget, lua_next, lua_to*) and pushes while the memory cap is lifted. */
typedef int (*keel_lua_dispatch_fn)(lua_State *L, void *context, int fn);
#define KEEL_LUA_RAISE (-1)

/* Per-VM state shared by C and Swift. Swift owns it (allocated before the state, freed after lua_close)
   and reaches it from C callbacks as the allocator's `ud` and through lua_getextraspace. */
typedef struct keel_lua_host {
    /* allocator (keel_lua_alloc) */
    size_t used;          /* bytes the VM holds now */
    size_t peak;          /* most bytes held at once since the last reset */
    size_t limit;         /* cap in bytes (lua_memory_limit); 0 = none */
    int enforce;          /* 1 while Lua code may run (armed calls, collections, close); 0 while Swift pushes values,
                             and then the collector is stopped so no finalizer runs uncapped */
    int refused;          /* set when an allocation was refused, or the cap was found exceeded */
    int cancelled;        /* set once (atomically, from any thread) when the watchdog abandons the VM: from then on
                             Lua code may not grow memory, every hook firing raises, no `keel.*` call reaches Swift */
    /* time budget (keel_lua_count_hook) */
    int64_t deadline_ns;  /* CLOCK_MONOTONIC nanoseconds; 0 = no deadline (outside a call) */
    int expired;          /* set when the hook (or the trampoline) found the deadline passed */
    int budget_ms;        /* the budget of the current call, for the error message */
    /* dispatch into Swift (keel_lua_trampoline) */
    keel_lua_dispatch_fn dispatch;
    void *context;
} keel_lua_host;

/* A new state using keel_lua_alloc with `host` as its `ud`, `host` stored in the extra space, a panic
   function that aborts with the message, and the count hook installed (idle while deadline_ns is 0).
   NULL when the state cannot be created. */
lua_State *keel_lua_newstate(keel_lua_host *host);
/* The host of `L` (any thread of the state). */
keel_lua_host *keel_lua_host_of(lua_State *L);
/* CLOCK_MONOTONIC now, nanoseconds. */
int64_t keel_lua_now_ns(void);

/* Marks the VM abandoned (any thread; atomic): see `cancelled`. */
void keel_lua_cancel(keel_lua_host *host);
/* 1 once keel_lua_cancel was called. */
int keel_lua_is_cancelled(const keel_lua_host *host);
/* 1 when the armed deadline has passed (a call that returned after it did not keep its budget). */
int keel_lua_budget_overran(lua_State *L);
/* Runs a full collection inside a protected call with the cap enforced (finalizers run under it); returns the status. */
int keel_lua_protected_collect(lua_State *L);
/* lua_pcall for Lua code called back from a Swift frame (keel.wait_for): the cap enforced and the collector
   running for the duration of the call, both restored afterwards. */
int keel_lua_guest_pcall(lua_State *L, int nargs, int nresults, int msgh);
/* Closes the state with its cap enforced and every growth refused (finalizers can neither allocate nor reach
   Swift); frees nothing else. */
void keel_lua_close_cancelled(lua_State *L);
/* The calling thread's kernel id (Linux gettid; 0 elsewhere). */
int keel_lua_thread_id(void);
/* Lowers the scheduling priority of thread `tid` to the least (nice 19); best effort. */
void keel_lua_deprioritize_thread(int tid);

/* Arms the budget for one call: deadline = now + budget_ms, clears `expired` and `refused`, resets `peak`,
   puts the hook of `L` back in count mode, enforces the cap and lets the collector run. Outside armed calls
   the collector is stopped, so no finalizer ever runs while the cap is lifted for Swift. */
void keel_lua_budget_arm(lua_State *L, int budget_ms);
/* Disarms it after the call (collector stopped, deadline 0, count mode again, cap no longer enforced). */
void keel_lua_budget_disarm(lua_State *L);

/* The message handler for keel_lua_pcall: turns the error value into a table
   {message=, source=, line=, traceback=} (source/line of the innermost Lua frame). */
int keel_lua_msgh(lua_State *L);
/* Pushes keel_lua_msgh. */
void keel_lua_push_msgh(lua_State *L);

/* Pushes a C closure calling host->dispatch(L, host->context, fn) through the trampoline, which lifts the
   memory cap around the Swift call and afterwards raises the Swift error, a memory error when the cap is
   exceeded, or the timeout error when the deadline passed. */
void keel_lua_push_host_function(lua_State *L, int fn);

/* Replaces the global `load` of the table at `index` with a text-only `load` (mode forced to "t"; a chunk
   loaded without `env` gets an empty environment instead of the shared globals). */
void keel_lua_install_safe_load(lua_State *L, int index);

/* Replaces `resume` of the coroutine table at `index` with one that raises the budget error in the resuming
   thread when the deadline passed while the coroutine ran (resume catches errors like pcall does). */
void keel_lua_install_safe_resume(lua_State *L, int index);

/* Replaces the global `xpcall` of the table at `index` with one whose message handler is skipped once the
   budget has expired or the VM was cancelled (Lua runs a handler reached from the count hook with hooks off). */
void keel_lua_install_safe_xpcall(lua_State *L, int index);

/* Replaces the global `collectgarbage` of the table at `index` with one that allows only "collect", "step",
   "count" and "isrunning": a script may not stop its collector or change its mode or parameters. */
void keel_lua_install_safe_collectgarbage(lua_State *L, int index);

/* Opens the libraries Keel allows (base, coroutine, string, table, math, utf8, os, io) into the global table;
   `package` and `debug` are not opened. */
void keel_lua_open_allowed_libs(lua_State *L);

#endif
