import CLuaShim

/// The limits of the VM's calls, from `lua_hook_timeout` (seconds) and `lua_memory_limit` (MB).
///
/// The time budget is enforced by an instruction-count hook written in C (`keel_lua_count_hook`,
/// CLuaShim/host.c): every 1,000 VM instructions it compares the monotonic clock with the deadline the
/// call was armed with; once past it, it switches itself to fire on every line and instruction and raises
/// the error each time, so a `pcall` in the script cannot swallow it (redis `luaMaskCountHook`). Time spent
/// inside `keel.*` functions counts too: `keel.sleep`, `keel.shell` and `keel.query` are bounded by what is
/// left of the budget, and the trampoline raises the timeout when a Swift call returns past the deadline.
/// A call that returns after its deadline is a timeout whatever it returned (`LuaState.protectedCall`); one
/// the hook cannot reach (a finalizer, one long C call) is abandoned by the watchdog (`WatchedLuaEngine`)
/// at the budget plus `WatchedLuaEngine.defaultGrace`.
public struct LuaLimits: Sendable, Equatable {
    /// Seconds one call (or one file's main chunk, at load) may run; `lua_hook_timeout`, default 5.
    public var timeout: Double
    /// Bytes the VM may hold; `lua_memory_limit` × 1 MiB, default 64 MiB. 0 = no cap.
    public var memoryBytes: Int

    /// Limits with `timeout` seconds and `memoryMegabytes` MiB.
    public init(timeout: Double = 5, memoryMegabytes: Int = 64) {
        self.timeout = timeout
        self.memoryBytes = memoryMegabytes * 1024 * 1024
    }

    /// `timeout` in whole milliseconds for the C hook (at least 1, at most `Int32.max`).
    static func milliseconds(_ seconds: Double) -> Int32 {
        Int32(clamping: max(1, Int((seconds * 1000).rounded())))
    }
}

extension LuaState {
    /// Seconds left before the running call's deadline (0 when past it; `.infinity` outside a call).
    var remainingBudget: Double {
        let deadline = host.pointee.deadline_ns
        guard deadline != 0 else { return .infinity }
        return max(0, Double(deadline - keel_lua_now_ns()) / 1e9)
    }
}
