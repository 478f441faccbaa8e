import CLua
import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `keel` module as Lua sees it, and the bridge from Lua into Swift.
///
/// Table layout (a fresh copy per script environment, so no script can change another's):
/// `keel.node` (this node, looked up once per call on first use), `keel.nodes()`, `keel.node_by_id(id)`,
/// `keel.query(target, sql, ...)`, `keel.exec(target, sql, ...)`, `keel.shell(cmd, {timeout=, env=})`,
/// `keel.log.debug/info/warn/error(msg)`, `keel.event(name, ok, details)`, `keel.sleep(seconds)`,
/// `keel.json.encode(value)`, `keel.json.decode(text)`, `keel.dry_run` (true under `keel hook test
/// --dry-run`); plus the global `print`, which logs at info.
///
/// Every function is a C closure (`keel_lua_push_host_function`) whose trampoline calls `dispatch` here.
/// Swift reports failures by pushing a message and returning `KEEL_LUA_RAISE`; the trampoline raises it
/// after Swift has returned (HAProxy's `WILL_LJMP` discipline). Used on the engine's thread only.
final class KeelModule {
    /// The functions, numbered for the trampoline's upvalue.
    enum Function: Int32, CaseIterable {
        case print = 1, logDebug, logInfo, logWarn, logError, event, sleep, shell, query, exec, nodes, nodeByID
        case moduleIndex, jsonEncode, jsonDecode
        case params, step, waitFor, promote, follow, switchover, rejoin, service
    }

    /// The VM (for the budget left); the engine owns both.
    unowned let state: LuaState
    /// The current call's host (`nil` between calls: the functions then raise).
    var host: (any KeelHost)?
    /// The current call's label for log lines (`event_notification_command (lua:/x.lua#notify)`).
    var label = ""
    /// What the current call logged.
    var logs: [LuaLogEntry] = []
    /// Registry reference of this call's `keel.node` table, built on first use.
    var nodeRef: Int32?
    /// The running playbook (`keel run`); `nil` for hooks, whose `keel` table has no playbook functions.
    var playbook: PlaybookState?

    /// The module for `state`.
    init(state: LuaState) { self.state = state }

    /// Starts a call: `host` answers the functions, lines are collected afresh.
    func beginCall(host: any KeelHost, label: String) {
        self.host = host
        self.label = label
        logs = []
        if let nodeRef { state.unref(nodeRef); self.nodeRef = nil }
    }

    /// Ends a call: the host is forgotten, the cached `keel.node` released.
    func endCall() {
        host = nil
        if let nodeRef { state.unref(nodeRef); self.nodeRef = nil }
    }

    /// Pushes a fresh `keel` table.
    func pushModule(_ state: LuaState) {
        let L = state.L
        let s = state.stack
        lua_createtable(L, 0, 12)
        let keel = s.top
        let functions: [(String, Function)] = [
            ("nodes", .nodes), ("node_by_id", .nodeByID), ("query", .query), ("exec", .exec), ("shell", .shell),
            ("event", .event), ("sleep", .sleep),
        ]
        for (name, fn) in functions {
            keel_lua_push_host_function(L, fn.rawValue)
            s.setRawField(name, of: keel)
        }
        lua_createtable(L, 0, 4)
        for (name, fn) in [("debug", Function.logDebug), ("info", .logInfo), ("warn", .logWarn), ("error", .logError)] {
            keel_lua_push_host_function(L, fn.rawValue)
            s.setRawField(name, of: -2)
        }
        s.setRawField("log", of: keel)
        lua_createtable(L, 0, 2)
        keel_lua_push_host_function(L, Function.jsonEncode.rawValue)
        s.setRawField("encode", of: -2)
        keel_lua_push_host_function(L, Function.jsonDecode.rawValue)
        s.setRawField("decode", of: -2)
        s.setRawField("json", of: keel)
        if let playbook { pushPlaybookFields(s, keel: keel, playbook: playbook) }
        // keel.node is computed on first read in each call: an __index metamethod.
        lua_createtable(L, 0, 1)
        keel_lua_push_host_function(L, Function.moduleIndex.rawValue)
        s.setRawField("__index", of: -2)
        lua_setmetatable(L, keel)
    }

    /// Pushes the global `print` replacement.
    func pushPrint(_ state: LuaState) {
        keel_lua_push_host_function(state.L, Function.print.rawValue)
    }

    /// Runs function `raw` with the arguments on `L`'s stack. Returns the number of results pushed, or
    /// `KEEL_LUA_RAISE` with an error message pushed.
    func dispatch(_ L: OpaquePointer, _ raw: Int32) -> Int32 {
        let s = LuaStack(L: L)
        guard let fn = Function(rawValue: raw) else { return raise(s, "unknown keel function \(raw)") }
        do {
            switch fn {
            case .print: return print(s)
            case .logDebug: return log(s, .debug)
            case .logInfo: return log(s, .info)
            case .logWarn: return log(s, .warn)
            case .logError: return log(s, .error)
            case .event: return try event(s)
            case .sleep: return try sleep(s)
            case .shell: return try shell(s)
            case .query: return try query(s, readOnly: true)
            case .exec: return try query(s, readOnly: false)
            case .nodes: return try nodes(s)
            case .nodeByID: return try nodeByID(s)
            case .moduleIndex: return try moduleIndex(s)
            case .jsonEncode: return jsonEncode(s)
            case .jsonDecode: return try jsonDecode(s)
            case .params: return try params(s)
            case .step: return try step(s)
            case .waitFor: return try waitFor(s)
            case .promote, .follow, .switchover, .rejoin, .service: return try operation(s, fn)
            }
        } catch let error as KeelModuleError {
            return raise(s, error.message)
        } catch {
            return raise(s, "\(fn.luaName): \(error)")
        }
    }

    /// The host of the running call, or a `KeelModuleError` naming `fn`.
    func requireHost(_ fn: Function) throws -> any KeelHost {
        guard let host else { throw KeelModuleError("\(fn.luaName) is not available outside a hook call") }
        return host
    }

    private func raise(_ s: LuaStack, _ message: String) -> Int32 {
        s.push(string: message)
        return KEEL_LUA_RAISE
    }
}

/// An argument or availability error of a `keel.*` function, raised in the script as is.
struct KeelModuleError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension KeelModule.Function {
    /// The name a script calls it by (`keel.query`, `print`, …), for error messages.
    var luaName: String {
        switch self {
        case .print: "print"
        case .logDebug: "keel.log.debug"
        case .logInfo: "keel.log.info"
        case .logWarn: "keel.log.warn"
        case .logError: "keel.log.error"
        case .event: "keel.event"
        case .sleep: "keel.sleep"
        case .shell: "keel.shell"
        case .query: "keel.query"
        case .exec: "keel.exec"
        case .nodes: "keel.nodes"
        case .nodeByID: "keel.node_by_id"
        case .moduleIndex: "keel.node"
        case .jsonEncode: "keel.json.encode"
        case .jsonDecode: "keel.json.decode"
        case .params: "keel.params"
        case .step: "keel.step"
        case .waitFor: "keel.wait_for"
        case .promote: "keel.promote"
        case .follow: "keel.follow"
        case .switchover: "keel.switchover"
        case .rejoin: "keel.rejoin"
        case .service: "keel.service"
        }
    }
}

/// The C entry point the trampoline calls (`keel_lua_host.dispatch`); `context` is the `KeelModule`.
let keelModuleDispatch: keel_lua_dispatch_fn = { L, context, fn in
    guard let L, let context else { return KEEL_LUA_RAISE }
    return Unmanaged<KeelModule>.fromOpaque(context).takeUnretainedValue().dispatch(L, fn)
}
