/* The VM's host state: the capped allocator and the time-budget count hook.
   Copied behaviour: redis script_lua.c (luaMaskCountHook re-arms the hook on every line once the script
   is past its time, so pcall inside the script cannot swallow the error), and a capped lua_Alloc
   that never fails a shrink leaves the state usable after LUA_ERRMEM. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif
#include "CLuaShim.h"

/* Instructions between two looks at the clock while a call runs (≈ a few microseconds of Lua). */
#define KEEL_LUA_HOOK_COUNT 1000

int64_t keel_lua_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

keel_lua_host *keel_lua_host_of(lua_State *L) {
    return *(keel_lua_host **)lua_getextraspace(L);
}

void keel_lua_cancel(keel_lua_host *host) {
    __atomic_store_n(&host->cancelled, 1, __ATOMIC_SEQ_CST);
}

int keel_lua_is_cancelled(const keel_lua_host *host) {
    return __atomic_load_n(&host->cancelled, __ATOMIC_SEQ_CST);
}

/* lua_Alloc: while `enforce` is set (Lua code may run), refuses growth past `limit`, and any growth once the VM
   is cancelled; never fails a shrink or a free. */
static void *keel_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    keel_lua_host *h = (keel_lua_host *)ud;
    size_t old = ptr ? osize : 0;   /* with ptr == NULL, osize encodes the object's type */
    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    if (nsize > old && h->enforce
        && (keel_lua_is_cancelled(h) || (h->limit && h->used - old + nsize > h->limit))) {
        h->refused = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) {
        if (nsize <= old) return ptr;   /* a shrink that realloc could not do: keep the larger block */
        h->refused = 1;
        return NULL;
    }
    h->used = h->used - old + nsize;
    if (h->used > h->peak) h->peak = h->used;
    return p;
}

static int keel_lua_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "PANIC: unprotected error in the Lua VM: %s\n", msg ? msg : "(not a string)");
    fflush(stderr);
    abort();
    return 0;
}

/* Raises the budget error at the current position (called from the hook or the trampoline). */
static int keel_lua_raise_timeout(lua_State *L, const char *where) {
    keel_lua_host *h = keel_lua_host_of(L);
    h->expired = 1;
    return luaL_error(L, "%stime budget of %d ms exceeded (lua_hook_timeout)", where, h->budget_ms);
}

static void keel_lua_count_hook(lua_State *L, lua_Debug *ar) {
    keel_lua_host *h = keel_lua_host_of(L);
    if (keel_lua_is_cancelled(h)) {
        h->expired = 1;
        lua_sethook(L, keel_lua_count_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
        luaL_error(L, "call abandoned by the watchdog");
        return;
    }
    if (h->deadline_ns == 0) return;
    if (!h->expired && keel_lua_now_ns() < h->deadline_ns) return;
    /* Past the deadline: from now on fire on every line and every instruction, so that a pcall in the
       script that caught the error gets it again at its next step (redis: re-arm per line). */
    lua_sethook(L, keel_lua_count_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    char where[256] = "";
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        snprintf(where, sizeof where, "%s:%d: ", ar->short_src, ar->currentline);
    }
    keel_lua_raise_timeout(L, where);
}

lua_State *keel_lua_newstate(keel_lua_host *host) {
    lua_State *L = lua_newstate(keel_lua_alloc, host);
    if (L == NULL) return NULL;
    *(keel_lua_host **)lua_getextraspace(L) = host;
    lua_atpanic(L, keel_lua_panic);
    lua_sethook(L, keel_lua_count_hook, LUA_MASKCOUNT, KEEL_LUA_HOOK_COUNT);
    lua_gc(L, LUA_GCSTOP);   /* runs only inside armed calls (keel_lua_budget_arm) */
    return L;
}

void keel_lua_budget_arm(lua_State *L, int budget_ms) {
    keel_lua_host *h = keel_lua_host_of(L);
    h->budget_ms = budget_ms;
    h->expired = 0;
    h->refused = 0;
    h->peak = h->used;
    h->deadline_ns = keel_lua_now_ns() + (int64_t)budget_ms * 1000000;
    lua_sethook(L, keel_lua_count_hook, LUA_MASKCOUNT, KEEL_LUA_HOOK_COUNT);
    h->enforce = 1;
    lua_gc(L, LUA_GCRESTART);
}

void keel_lua_budget_disarm(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    lua_gc(L, LUA_GCSTOP);
    h->enforce = 0;
    h->deadline_ns = 0;
    lua_sethook(L, keel_lua_count_hook, LUA_MASKCOUNT, KEEL_LUA_HOOK_COUNT);
}

/* Used by trampoline.c after a Swift call: raises the budget error when the deadline passed. */
int keel_lua_check_deadline(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    if (h->deadline_ns == 0 || (!h->expired && keel_lua_now_ns() < h->deadline_ns)) return 0;
    lua_sethook(L, keel_lua_count_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
    luaL_where(L, 1);
    const char *where = lua_tostring(L, -1);
    return keel_lua_raise_timeout(L, where ? where : "");
}

int keel_lua_budget_overran(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    return h->expired || keel_lua_is_cancelled(h) || (h->deadline_ns != 0 && keel_lua_now_ns() > h->deadline_ns);
}

static int keel_lua_collect_fn(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

int keel_lua_protected_collect(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    int enforce = h->enforce;
    h->enforce = 1;
    lua_pushcfunction(L, keel_lua_collect_fn);
    int status = lua_pcall(L, 0, 0, 0);
    if (status != LUA_OK) lua_pop(L, 1);
    h->enforce = enforce;
    return status;
}

int keel_lua_guest_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    keel_lua_host *h = keel_lua_host_of(L);
    int enforce = h->enforce;
    int running = lua_gc(L, LUA_GCISRUNNING);   /* -1 inside a finalizer: the collector is held there */
    h->enforce = 1;
    if (running == 0) lua_gc(L, LUA_GCRESTART);
    int status = lua_pcall(L, nargs, nresults, msgh);
    if (running == 0) lua_gc(L, LUA_GCSTOP);
    h->enforce = enforce;
    return status;
}

void keel_lua_close_cancelled(lua_State *L) {
    keel_lua_host *h = keel_lua_host_of(L);
    keel_lua_cancel(h);
    h->enforce = 1;
    lua_close(L);
}

int keel_lua_thread_id(void) {
#if defined(__linux__)
    return (int)syscall(SYS_gettid);
#else
    return 0;
#endif
}

void keel_lua_deprioritize_thread(int tid) {
#if defined(__linux__)
    if (tid > 0) (void)setpriority(PRIO_PROCESS, (id_t)tid, 19);
#else
    (void)tid;
#endif
}
