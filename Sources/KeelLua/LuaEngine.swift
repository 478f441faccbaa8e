import CLua
import CLuaShim
import Foundation

/// The process's Lua VM: loads hook scripts once, calls their functions under the time budget and memory
/// cap, reloads them on demand (SIGHUP), keeping the previous version of a script whose new version fails.
///
/// An actor whose executor is one dedicated thread (`LuaThreadExecutor`): every use of the `lua_State`
/// happens on that thread, one call at a time; callers `await`. A call that waits in `keel.query`,
/// `keel.shell` or `keel.sleep` holds the engine (at most its budget), so the next call waits behind it.
///
/// ```swift
/// let engine = try LuaEngine(limits: LuaLimits(timeout: 5, memoryMegabytes: 64))
/// let result = await engine.call(LuaHookReference(path: "/etc/keel/validate.lua", function: "validate"),
///                                arguments: [context], host: host, label: "failover_validation_command")
/// result.verdict   // (true, nil) or (false, "reason")
/// ```
public actor LuaEngine {
    private let executor: LuaThreadExecutor
    let state: LuaState
    let module: KeelModule
    private var scripts: [String: LuaScript] = [:]
    private var limits: LuaLimits

    /// The engine's thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// A VM with Keel's library set and the `keel` module, capped by `limits`. Throws `LuaError` when the
    /// VM cannot be created.
    public init(limits: LuaLimits = LuaLimits()) throws(LuaError) {
        let state = try LuaState(memoryLimit: limits.memoryBytes)
        let module = KeelModule(state: state)
        state.setDispatcher(keelModuleDispatch, context: Unmanaged.passUnretained(module).toOpaque())
        state.openSandbox()
        self.state = state
        self.module = module
        self.limits = limits
        executor = LuaThreadExecutor(name: "keel-lua")
    }

    deinit {
        executor.stop()
    }

    /// Replaces the limits (a reloaded `lua_hook_timeout`; `lua_memory_limit` applies from the next call).
    public func setLimits(_ limits: LuaLimits) {
        self.limits = limits
        state.memoryLimit = limits.memoryBytes
    }

    /// The limits in force.
    public var currentLimits: LuaLimits { limits }

    /// Bytes the VM holds now.
    public var memoryInUse: Int { state.memoryInUse }

    /// The scripts loaded, by path.
    public var loadedScripts: [String] { scripts.keys.sorted() }

    /// Loads `path` unless it is loaded already (its main chunk runs once, under the budget, with `host`
    /// answering `keel.*`). Returns the error when it cannot be loaded.
    @discardableResult
    public func load(_ path: String, host: any KeelHost) -> LuaError? {
        guard scripts[path] == nil else { return nil }
        module.beginCall(host: host, label: path)
        defer { module.endCall() }
        switch compile(path) {
        case .success(let script): scripts[path] = script; return nil
        case .failure(let error): return error
        }
    }

    /// Reloads every loaded script and loads `also` (paths not loaded yet). A script whose new version does
    /// not load keeps its previous version (`keptPrevious`); the report says why.
    public func reload(also paths: [String] = [], host: any KeelHost) -> [LuaReloadReport] {
        var reports: [LuaReloadReport] = []
        for path in Set(scripts.keys).union(paths).sorted() {
            module.beginCall(host: host, label: path)
            defer { module.endCall() }
            switch compile(path) {
            case .success(let script):
                if let old = scripts[path] { release(old) }
                scripts[path] = script
                reports.append(LuaReloadReport(path: path, error: nil, keptPrevious: false))
            case .failure(let error):
                reports.append(LuaReloadReport(path: path, error: error, keptPrevious: scripts[path] != nil))
            }
        }
        return reports
    }

    /// Calls the hook `hook` with `arguments` (normally one context table), loading its file first if
    /// needed. `budget` overrides the limits' timeout (seconds). Never throws: a failure is in the result.
    public func call(_ hook: LuaHookReference, arguments: [LuaValue], host: any KeelHost, label: String,
                     budget: Double? = nil) -> LuaCallResult {
        let clock = ContinuousClock()
        let started = clock.now
        module.beginCall(host: host, label: label)
        defer { module.endCall() }
        func finish(_ values: [LuaValue], _ error: LuaError?) -> LuaCallResult {
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return LuaCallResult(values: values, error: error, seconds: seconds, logs: module.logs, peakMemory: state.peakMemory)
        }
        if scripts[hook.path] == nil {
            switch compile(hook.path) {
            case .success(let script): scripts[hook.path] = script
            case .failure(let error): return finish([], error)
            }
        }
        let stack = state.stack
        let top = stack.top
        if let error = pushFunction(hook, script: scripts[hook.path]!) { return finish([], error) }
        for argument in arguments { stack.push(argument) }
        let (base, error) = state.protectedCall(arguments: Int32(arguments.count),
                                                budgetMilliseconds: LuaLimits.milliseconds(budget ?? limits.timeout),
                                                stage: .run, path: hook.path)
        let values = error == nil ? stack.values(from: base) : []
        stack.setTop(top)
        return finish(values, error)
    }

    // MARK: scripts

    /// Reads, compiles and runs `path`'s main chunk in a fresh environment.
    private func compile(_ path: String) -> Result<LuaScript, LuaError> {
        let source: [UInt8]
        do { source = try LuaScript.read(path) } catch { return .failure(error) }
        let stack = state.stack
        let top = stack.top
        if let error = state.compile(source, path: path) { return .failure(error) }
        state.pushEnvironment(extras: [("keel", module.pushModule), ("print", module.pushPrint)])
        lua_pushvalue(state.L, -1)
        let environmentRef = state.ref()
        _ = lua_setupvalue(state.L, -2, 1)   // the chunk's _ENV
        let (base, error) = state.protectedCall(arguments: 0, budgetMilliseconds: LuaLimits.milliseconds(limits.timeout),
                                                stage: .load, path: path)
        if let error {
            state.unref(environmentRef)
            stack.setTop(top)
            return .failure(error)
        }
        stack.setTop(base)   // keep the first result only
        if stack.top < base { lua_pushnil(state.L) }
        let valueRef = state.ref()
        stack.setTop(top)
        return .success(LuaScript(path: path, environmentRef: environmentRef, valueRef: valueRef))
    }

    private func release(_ script: LuaScript) {
        state.unref(script.environmentRef)
        state.unref(script.valueRef)
    }

    /// Pushes the hook's function, or returns why there is none (`.run`, `.missingFunction`).
    private func pushFunction(_ hook: LuaHookReference, script: LuaScript) -> LuaError? {
        let stack = state.stack
        let L = state.L
        if let name = hook.function {
            state.push(ref: script.environmentRef)
            stack.rawField(name, of: -1)
            if keel_lua_isfunction(L, -1) != 0 { keel_lua_remove(L, -2); return nil }
            lua_settop(L, -3)
            state.push(ref: script.valueRef)
            stack.rawField(name, of: -1)
            if keel_lua_isfunction(L, -1) != 0 { keel_lua_remove(L, -2); return nil }
            lua_settop(L, -3)
            return LuaError(stage: .run, kind: .missingFunction, file: hook.path,
                            message: "no function \"\(name)\": the file defines no global function \"\(name)\" and returns no table with a function \"\(name)\"")
        }
        state.push(ref: script.valueRef)
        if keel_lua_isfunction(L, -1) != 0 { return nil }
        let type = stack.typeName(at: -1)
        lua_settop(L, -2)
        return LuaError(stage: .run, kind: .missingFunction, file: hook.path,
                        message: "the file returns \(type == "nil" ? "nothing" : "a \(type)"), not a function; return one, or name a global function with lua:PATH#name")
    }
}
