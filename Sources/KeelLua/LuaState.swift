import CLua
import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// One Lua 5.4 VM (`lua_State*`) and its C host state (allocator accounting, budget, dispatch), owned by
/// this object: created with `luaL_newstate`'s equivalent on Keel's capped allocator, closed when released.
///
/// Not thread-safe and not `Sendable`: a `LuaEngine` owns it and uses it from its own thread. Only this type
/// and `LuaStack` touch raw Lua pointers. `cancellation` (shared with other threads) can mark the VM
/// abandoned at any moment; the C host then stops it where it can (see `keel_lua_host.cancelled`).
final class LuaState {
    /// The main thread's `lua_State*`.
    let L: OpaquePointer
    /// The C side's per-VM state (`keel_lua_host`), allocated before the VM and freed after it.
    let host: UnsafeMutablePointer<keel_lua_host>
    private let cancellation: LuaCancellation?

    /// A fresh VM with no libraries yet, capped at `memoryLimit` bytes (0 = no cap) while Lua code runs,
    /// cancelled with `cancellation`. Throws `LuaError` (`.load`, `.memory`) when the VM cannot be created.
    init(memoryLimit: Int, cancellation: LuaCancellation? = nil) throws(LuaError) {
        host = .allocate(capacity: 1)
        host.initialize(to: keel_lua_host())
        host.pointee.limit = memoryLimit
        guard let state = keel_lua_newstate(host) else {
            host.deallocate()
            throw LuaError(stage: .load, kind: .memory, message: "unable to create the Lua VM")
        }
        L = state
        self.cancellation = cancellation
        cancellation?.register(host)
    }

    /// Closes the VM on a thread of its own, cancelled first: `lua_close` runs the pending finalizers, where
    /// Lua's hooks are off, so a finalizer that never ends must not hold the thread that released the VM.
    /// Cancelled, the finalizers can neither allocate nor call `keel.*`; one that loops keeps only that thread.
    deinit {
        cancellation?.unregister(host)
        let doomed = ClosingState(L: L, host: host)
        keel_lua_cancel(host)
        // At the lowest CPU priority from the start: a finalizer that loops forever here must not take a core
        // from keeld's monitoring (the closing VM is cancelled, so it can neither allocate nor call keel.*).
        startThread(name: "keel-lua-close", stackSize: 1 << 20) {
            keel_lua_deprioritize_thread(keel_lua_thread_id())
            doomed.close()
        }
    }

    /// The main thread's stack.
    var stack: LuaStack { LuaStack(L: L) }

    /// Routes `keel.*` calls to `dispatch` with `context` (an unretained pointer the caller keeps alive).
    func setDispatcher(_ dispatch: keel_lua_dispatch_fn, context: UnsafeMutableRawPointer) {
        host.pointee.dispatch = dispatch
        host.pointee.context = context
    }

    // MARK: registry references

    /// Pops the top value into the registry and returns its reference.
    func ref() -> Int32 { luaL_ref(L, keel_lua_registryindex()) }

    /// Pushes the value of reference `ref`.
    func push(ref: Int32) { lua_rawgeti(L, keel_lua_registryindex(), lua_Integer(ref)) }

    /// Releases reference `ref`.
    func unref(_ ref: Int32) { luaL_unref(L, keel_lua_registryindex(), ref) }

    // MARK: loading and calling

    /// Compiles `source` as a text chunk named `@path` and leaves the function on the stack; on failure
    /// pops the message and returns the error (stage `.load`, kind `.syntax` or `.memory`, with the line).
    func compile(_ source: [UInt8], path: String) -> LuaError? {
        host.pointee.enforce = 1
        host.pointee.refused = 0
        let status = source.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { keel_lua_loadtext(L, $0.baseAddress, $0.count, "@" + path) }
        }
        host.pointee.enforce = 0
        guard status != LUA_OK else { return nil }
        let error = makeError(status: status, stage: .load, path: path)
        lua_settop(L, -2)
        return error
    }

    /// Calls the function that sits below `arguments` values at the top of the stack, with the message
    /// handler, the memory cap enforced and a budget of `budgetMilliseconds`. On success the results replace
    /// the function and its arguments (returns `nil`, the results start at the returned base index);
    /// on failure the stack is restored and the error returned (`.timeout`, `.memory` or `.runtime`).
    func protectedCall(arguments: Int32, budgetMilliseconds: Int32, stage: LuaError.Stage,
                       path: String?) -> (base: Int32, error: LuaError?) {
        let base = lua_gettop(L) - arguments
        keel_lua_push_msgh(L)
        keel_lua_insert(L, base)
        keel_lua_budget_arm(L, budgetMilliseconds)
        let status = keel_lua_pcall(L, arguments, LUA_MULTRET, base)
        let overran = keel_lua_budget_overran(L) != 0
        keel_lua_budget_disarm(L)
        keel_lua_remove(L, base)
        if status == LUA_OK, !overran { return (base, nil) }
        let error: LuaError
        if status == LUA_OK {
            // Returned, but after its deadline (one long C call the hook could not interrupt): not a success.
            error = LuaError(stage: stage, kind: .timeout, file: path,
                             message: "time budget of \(budgetMilliseconds) ms exceeded (lua_hook_timeout): the call returned after it")
        } else {
            error = makeError(status: status, stage: stage, path: path)
        }
        lua_settop(L, base - 1)
        if error.kind == .memory { _ = keel_lua_protected_collect(L) }
        return (base, error)
    }

    /// Builds the error for a failed load or call from the value on top (the message handler's table, or a
    /// message string) and the host's flags. `path` is the script, used for a chunk name Lua truncated.
    private func makeError(status: Int32, stage: LuaError.Stage, path: String?) -> LuaError {
        let s = stack
        var message: String
        var source: String?
        var line: Int?
        var traceback: String?
        if lua_type(L, -1) == LUA_TTABLE {
            s.rawField("message", of: -1); message = s.string(at: -1) ?? "unknown error"; lua_settop(L, -2)
            s.rawField("source", of: -1); source = s.string(at: -1); lua_settop(L, -2)
            s.rawField("line", of: -1); line = s.integer(at: -1).map { Int($0) }; lua_settop(L, -2)
            s.rawField("traceback", of: -1); traceback = s.string(at: -1); lua_settop(L, -2)
        } else {
            message = s.string(at: -1) ?? "(error object is a \(s.typeName(at: -1)) value)"
        }
        if let split = LuaError.splitLocation(message) {
            source = split.file
            line = split.line
            message = split.message
        }
        let kind: LuaError.Kind
        if host.pointee.expired != 0 {
            kind = .timeout
        } else if status == LUA_ERRMEM || host.pointee.refused != 0 {
            kind = .memory
            if status == LUA_ERRMEM {
                message = "not enough memory (lua_memory_limit of \(host.pointee.limit >> 20) MB reached)"
            }
        } else if status == LUA_ERRSYNTAX {
            kind = .syntax
        } else {
            kind = .runtime
        }
        return LuaError(stage: stage, kind: kind, file: Self.fullPath(source, script: path), line: line,
                        message: message, traceback: traceback)
    }

    /// Lua shortens chunk names to 60 bytes (`...tail`); give back the script's full path when it matches.
    private static func fullPath(_ source: String?, script: String?) -> String? {
        guard let source else { return script }
        guard let script else { return source }
        if source == script { return script }
        if source.hasPrefix("..."), script.hasSuffix(source.dropFirst(3)) { return script }
        return source
    }
}

/// The pointers of a released VM, handed to the thread that closes it.
private struct ClosingState: @unchecked Sendable {
    let L: OpaquePointer
    let host: UnsafeMutablePointer<keel_lua_host>

    func close() {
        keel_lua_close_cancelled(L)
        host.deinitialize(count: 1)
        host.deallocate()
    }
}
