import CLuaShim

/// The VM's memory accounting and cap. The allocator itself is C (`keel_lua_alloc` in CLuaShim/host.c):
/// it counts every byte the VM holds and, whenever Lua code may run — a call, its finalizers, the full
/// collection Keel runs after a memory error (`keel_lua_protected_collect`), the closing of the VM — refuses
/// to grow past `memoryLimit` (`lua_memory_limit`), which Lua turns into a memory error (`LUA_ERRMEM`) for
/// that call only; Lua collects garbage and retries first, and the state stays usable afterwards.
/// While Swift pushes values (arguments, `keel.*` results) the cap is lifted, so a memory error is never
/// raised inside a Swift frame, and the collector is stopped, so no finalizer runs then; the trampoline
/// checks the cap when Swift returns. Once the VM is cancelled (the watchdog abandoned it), Lua code may not
/// grow memory at all.
extension LuaState {
    /// Bytes the VM holds now.
    var memoryInUse: Int { host.pointee.used }

    /// Most bytes held at once during the last call (reset when a call starts).
    var peakMemory: Int { host.pointee.peak }

    /// The cap in bytes (0 = none).
    var memoryLimit: Int {
        get { host.pointee.limit }
        set { host.pointee.limit = max(0, newValue) }
    }
}
