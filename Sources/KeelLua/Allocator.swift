import CLuaShim

/// The VM's memory accounting and cap. The allocator itself is C (`keel_lua_alloc` in CLuaShim/host.c):
/// it counts every byte the VM holds and, while Lua code runs, refuses to grow past `memoryLimit`
/// (`lua_memory_limit`), which Lua turns into a memory error (`LUA_ERRMEM`) for that call only — Lua
/// collects garbage and retries first, and the state stays usable afterwards. While Swift
/// pushes values (arguments, `keel.*` results) the cap is lifted and checked again when Swift returns, so
/// a memory error is never raised inside a Swift frame.
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
