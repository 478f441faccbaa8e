import CLua
import CLuaShim
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Lua side of one hook point (or one playbook run): loads hook scripts once, each into a VM of its own
/// (`ScriptVM`: scripts share nothing), calls their functions under the time budget and memory cap, reloads
/// them on demand (SIGHUP), keeping the previous version of a script whose new version fails.
///
/// An actor whose executor is one dedicated thread (`LuaThreadExecutor`): every use of its VMs happens on
/// that thread, one call at a time; callers `await`. A call that waits in `keel.query`, `keel.shell` or
/// `keel.sleep` holds the engine (at most its budget), so the next call waits behind it. The budget inside
/// the VM is enforced by Lua's count hook; what the hook cannot reach (finalizers, message handlers, one long
/// C call) is for the watchdog outside, `WatchedLuaEngine`, which abandons the whole engine (`abandon()`).
///
/// ```swift
/// let engine = try LuaEngine(limits: LuaLimits(timeout: 5, memoryMegabytes: 64))
/// let result = await engine.call(LuaHookReference(path: "/etc/keel/validate.lua", function: "validate"),
///                                arguments: [context], host: host, label: "failover_validation_command")
/// result.verdict   // (true, nil) or (false, "reason")
/// ```
public actor LuaEngine {
    private let executor: LuaThreadExecutor
    private var vms: [String: ScriptVM] = [:]
    private var limits: LuaLimits
    /// Script texts to load instead of reading the files (a replacement engine loads what its predecessor had).
    private var preloaded: [String: [UInt8]]
    /// Shared with the watchdog: cancels this engine's VMs from another thread.
    nonisolated let cancellation = LuaCancellation()

    /// The engine's thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// An engine whose VMs get Keel's library set and the `keel` module, capped by `limits`. Throws
    /// `LuaError` when a VM cannot be created.
    public init(limits: LuaLimits = LuaLimits()) throws(LuaError) {
        self.init(limits: limits, preloaded: [:])
    }

    /// An engine that loads `preloaded` (path → text) instead of reading those files; `name` names its thread.
    init(limits: LuaLimits, preloaded: [String: [UInt8]], name: String = "keel-lua") {
        self.limits = limits
        self.preloaded = preloaded
        let cancellation = self.cancellation
        executor = LuaThreadExecutor(name: name) { cancellation.setThreadID($0) }
    }

    deinit {
        executor.stop()
    }

    /// Runs `body` on the engine's thread, isolated to the engine, and hands its result to `completion` there
    /// (no task, no hop through the cooperative pool: the watchdog's per-call path).
    nonisolated func perform<T: Sendable>(_ body: @escaping @Sendable (isolated LuaEngine) -> T,
                                          completion: @escaping @Sendable (T) -> Void) {
        executor.submit { [self] in completion(self.assumeIsolated { body($0) }) }
    }

    /// Marks the engine abandoned (any thread): its VMs are cancelled where the C host can stop them, and
    /// every call still queued on it fails at once. The engine is never used again.
    public nonisolated func abandon() {
        cancellation.cancel()
    }

    /// Replaces the limits (a reloaded `lua_hook_timeout`; `lua_memory_limit` applies from the next call).
    public func setLimits(_ limits: LuaLimits) {
        self.limits = limits
        for vm in vms.values { vm.state.memoryLimit = limits.memoryBytes }
    }

    /// The limits in force.
    public var currentLimits: LuaLimits { limits }

    /// Bytes the VMs hold now (all scripts together; each is capped on its own).
    public var memoryInUse: Int { vms.values.reduce(0) { $0 + $1.state.memoryInUse } }

    /// The scripts loaded, by path.
    public var loadedScripts: [String] { vms.keys.sorted() }

    /// Loads `path` unless it is loaded already (its main chunk runs once, under the budget, with `host`
    /// answering `keel.*`). Returns the error when it cannot be loaded.
    @discardableResult
    public func load(_ path: String, host: any KeelHost) -> LuaError? {
        guard vms[path] == nil else { return nil }
        switch compile(path, source: nil, host: host) {
        case .success(let vm): vms[path] = vm; return nil
        case .failure(let error): return error
        }
    }

    /// Reloads every loaded script from its file and loads `also` (paths not loaded yet). A script whose new
    /// version does not load keeps its previous version (`keptPrevious`); the report says why.
    public func reload(also paths: [String] = [], host: any KeelHost) -> [LuaReloadReport] {
        var reports: [LuaReloadReport] = []
        for path in Set(vms.keys).union(paths).sorted() {
            preloaded[path] = nil   // a reload reads the file
            switch compile(path, source: nil, host: host) {
            case .success(let vm):
                vms[path] = vm
                reports.append(LuaReloadReport(path: path, error: nil, keptPrevious: false))
            case .failure(let error):
                reports.append(LuaReloadReport(path: path, error: error, keptPrevious: vms[path] != nil))
            }
        }
        return reports
    }

    /// Calls the hook `hook` with `arguments` (normally one context table), loading its file first if
    /// needed. `budget` overrides the limits' timeout (seconds). Never throws: a failure is in the result.
    /// A call that returns after its budget counts as a timeout, whatever it returned.
    public func call(_ hook: LuaHookReference, arguments: [LuaValue], host: any KeelHost, label: String,
                     budget: Double? = nil) -> LuaCallResult {
        let clock = ContinuousClock()
        let started = clock.now
        func failed(_ error: LuaError) -> LuaCallResult {
            LuaCallResult(values: [], error: error, seconds: Self.seconds(clock.now - started), logs: [], peakMemory: 0)
        }
        if cancellation.isCancelled {
            return failed(LuaError(stage: .run, kind: .timeout, file: hook.path,
                                   message: "not run: the VM it was queued on was abandoned by the watchdog"))
        }
        let vm: ScriptVM
        if let loaded = vms[hook.path] {
            vm = loaded
        } else {
            switch compile(hook.path, source: nil, host: host, label: label) {
            case .success(let created): vms[hook.path] = created; vm = created
            case .failure(let error): return failed(error)
            }
        }
        let state = vm.state
        vm.module.beginCall(host: host, label: label)
        defer { vm.module.endCall() }
        let stack = state.stack
        let top = stack.top
        var values: [LuaValue] = []
        var error = pushFunction(hook, vm: vm)
        if error == nil {
            for argument in arguments { stack.push(argument) }
            let (base, failure) = state.protectedCall(arguments: Int32(arguments.count),
                                                      budgetMilliseconds: LuaLimits.milliseconds(budget ?? limits.timeout),
                                                      stage: .run, path: hook.path)
            error = failure
            if failure == nil { values = stack.values(from: base) }
        }
        stack.setTop(top)
        return LuaCallResult(values: values, error: error, seconds: Self.seconds(clock.now - started), logs: vm.module.logs,
                             peakMemory: state.peakMemory)
    }

    // MARK: scripts

    /// The text to load for `path`: what the engine was handed for it (once), or the file's bytes.
    private func source(_ path: String) throws(LuaError) -> [UInt8] {
        if let text = preloaded.removeValue(forKey: path) { return text }
        return try LuaScript.read(path)
    }

    /// Compiles `path` (`source`, or its text per `source(_:)`) in a fresh VM and runs its main chunk there,
    /// in a fresh environment, with `host` answering `keel.*`.
    private func compile(_ path: String, source given: [UInt8]?, host: any KeelHost, label: String? = nil) -> Result<ScriptVM, LuaError> {
        var text: [UInt8]
        if let given { text = given } else {
            do { text = try source(path) } catch { return .failure(error) }
        }
        let vm: ScriptVM
        do { vm = try ScriptVM(limits: limits, cancellation: cancellation) } catch { return .failure(error) }
        let state = vm.state
        vm.module.beginCall(host: host, label: label ?? path)
        defer { vm.module.endCall() }
        let stack = state.stack
        if let error = state.compile(text, path: path) { return .failure(error) }
        state.pushEnvironment(extras: [("keel", vm.module.pushModule), ("print", vm.module.pushPrint)])
        lua_pushvalue(state.L, -1)
        let environmentRef = state.ref()
        _ = lua_setupvalue(state.L, -2, 1)   // the chunk's _ENV
        let (base, error) = state.protectedCall(arguments: 0, budgetMilliseconds: LuaLimits.milliseconds(limits.timeout),
                                                stage: .load, path: path)
        if let error { return .failure(error) }
        stack.setTop(base)   // keep the first result only
        if stack.top < base { lua_pushnil(state.L) }
        let valueRef = state.ref()
        stack.setTop(0)
        vm.script = LuaScript(path: path, environmentRef: environmentRef, valueRef: valueRef)
        cancellation.loaded(path, source: text)
        return .success(vm)
    }

    /// Pushes the hook's function, or returns why there is none (`.run`, `.missingFunction`).
    private func pushFunction(_ hook: LuaHookReference, vm: ScriptVM) -> LuaError? {
        guard let script = vm.script else {
            return LuaError(stage: .run, kind: .missingFunction, file: hook.path, message: "the script is not loaded")
        }
        let state = vm.state
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
