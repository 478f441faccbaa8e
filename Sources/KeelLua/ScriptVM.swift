#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One script's own Lua VM: its `lua_State`, its `keel` module bridge and the script loaded in it.
///
/// Every script (and every playbook run) gets a VM of its own, so scripts share nothing: not the `io`
/// library's file-handle metatable or default output, not the random generator's state, not the string
/// metatable, not the collector, not the memory cap's count. Used on its engine's thread only.
final class ScriptVM {
    /// The VM.
    let state: LuaState
    /// The bridge of `keel.*` calls into Swift (the state's dispatch context, kept alive here).
    let module: KeelModule
    /// The script loaded in it (`nil` until loaded, and for a playbook).
    var script: LuaScript?

    /// A VM with Keel's library set and the `keel` module, capped by `limits`, cancelled with `cancellation`.
    /// Throws `LuaError` when the VM cannot be created.
    init(limits: LuaLimits, cancellation: LuaCancellation?) throws(LuaError) {
        state = try LuaState(memoryLimit: limits.memoryBytes, cancellation: cancellation)
        module = KeelModule(state: state)
        state.setDispatcher(keelModuleDispatch, context: Unmanaged.passUnretained(module).toOpaque())
        state.openSandbox()
    }
}
