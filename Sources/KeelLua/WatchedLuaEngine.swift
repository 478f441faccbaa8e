#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// A `LuaEngine` behind a watchdog outside the VM: every job (a call, a load, a reload) must finish within
/// its budget plus `grace`, or it is abandoned, whatever it is doing.
///
/// Lua's count hook ends a call at its budget from inside the VM, but it cannot reach a finalizer (`__gc`)
/// or a message handler running with hooks off, nor one long C library call (`string.rep("", 1e15)`, a
/// backtracking `string.find`). The watchdog does not need to: the caller waits with a deadline; on overrun
/// it gets a timeout at once (a veto for validation, a failure for promote or follow), the engine is
/// abandoned — cancelled where the C host can stop it, its thread and VMs never used again — and a new
/// engine takes its place, loading the same script versions at its first call. A call that returned after
/// its budget is a timeout too (`LuaEngine.call`), so an overrun never counts as a success.
///
/// What an abandoned thread keeps doing is out of the daemon's way: it holds no lock the daemon takes, its
/// VMs are closed (or leaked) on their own thread, and its thread runs at the lowest priority. A call that
/// never ends keeps one core busy until the process exits; so once `maxRunaways` abandoned jobs are still
/// running, calls fail at once without running (still a timeout) until a reload brings a new version.
public final class WatchedLuaEngine: @unchecked Sendable {
    /// Extra seconds past a job's budget before the watchdog abandons it (the count hook's own timeout,
    /// its error and a `keel.shell` or `keel.query` bounded by the budget all fit well within it).
    public static let defaultGrace = 0.5
    /// Abandoned jobs still running past which calls fail without running, until the next reload.
    public static let maxRunaways = 3

    private let lock = Lock()
    private var engine: LuaEngine
    private var limits: LuaLimits
    private var replaced = 0
    private var runaways = 0
    /// The name of the engines' threads.
    private let name: String
    /// Seconds past the budget before a job is abandoned.
    public let grace: Double

    /// A watched engine capped by `limits`; `name` names its thread (`keel-lua` …).
    public init(limits: LuaLimits = LuaLimits(), grace: Double = WatchedLuaEngine.defaultGrace, name: String = "keel-lua") {
        self.limits = limits
        self.grace = grace
        self.name = name
        engine = LuaEngine(limits: limits, preloaded: [:], name: name)
    }

    /// The engine in use now (a new one after each abandonment).
    public var current: LuaEngine { lock.withLock { engine } }

    /// How many engines the watchdog abandoned and replaced.
    public var replacements: Int { lock.withLock { replaced } }

    /// Abandoned jobs still running (counted from the last reload).
    public var runawaysRunning: Int { lock.withLock { runaways } }

    /// The limits in force (`lua_hook_timeout` also gives the load budget of a call that must load first).
    public var currentLimits: LuaLimits { lock.withLock { limits } }

    /// Replaces the limits (`lua_hook_timeout` at the next call; `lua_memory_limit` for the VMs created after).
    public func setLimits(_ limits: LuaLimits) async {
        let engine = lock.withLock {
            self.limits = limits
            return self.engine
        }
        await engine.setLimits(limits)
    }

    /// `LuaEngine.call` under the watchdog: abandoned after `budget` (or `lua_hook_timeout`) plus `grace`,
    /// plus one load budget when the engine has not loaded the script yet.
    public func call(_ hook: LuaHookReference, arguments: [LuaValue], host: any KeelHost, label: String,
                     budget: Double? = nil) async -> LuaCallResult {
        let (engine, timeout, running) = lock.withLock { (self.engine, limits.timeout, runaways) }
        let callBudget = budget ?? timeout
        let deadline = callBudget + grace + (engine.cancellation.hasLoaded(hook.path) ? 0 : timeout)
        let clock = ContinuousClock()
        let started = clock.now
        if running >= Self.maxRunaways {
            let error = LuaError(stage: .run, kind: .timeout, file: hook.path,
                                 message: "not run: \(running) earlier calls abandoned by the watchdog are still running (each keeps a thread busy); "
                                     + "fix the script and reload it (SIGHUP), or restart")
            return LuaCallResult(values: [], error: error, seconds: 0, logs: [], peakMemory: 0)
        }
        if let result = await watch(seconds: deadline, { $0.call(hook, arguments: arguments, host: host, label: label, budget: callBudget) }) {
            return result
        }
        let error = LuaError(stage: .run, kind: .timeout, file: hook.path,
                             message: "time budget of \(Self.milliseconds(callBudget)) exceeded (lua_hook_timeout): the call was abandoned by the watchdog after "
                                 + "\(Self.milliseconds(deadline)) (finalizer, message handler or long C call the budget cannot interrupt); its Lua VM was replaced")
        return LuaCallResult(values: [], error: error, seconds: LuaEngine.seconds(clock.now - started), logs: [], peakMemory: 0)
    }

    /// `LuaEngine.load` under the watchdog (one load budget plus `grace`).
    @discardableResult
    public func load(_ path: String, host: any KeelHost) async -> LuaError? {
        let timeout = lock.withLock { limits.timeout }
        if let error = await watch(seconds: timeout + grace, { $0.load(path, host: host) }) { return error }
        return LuaError(stage: .load, kind: .timeout, file: path, message: Self.abandonedLoad(timeout + grace))
    }

    /// `LuaEngine.reload` under the watchdog (one load budget per script plus `grace`). When abandoned, every
    /// script reports the timeout and the replacement engine keeps the versions loaded before.
    public func reload(also paths: [String] = [], host: any KeelHost) async -> [LuaReloadReport] {
        let (engine, timeout) = lock.withLock { (self.engine, limits.timeout) }
        let all = Set(engine.cancellation.loadedSources.keys).union(paths).sorted()
        let seconds = Double(max(1, all.count)) * timeout + grace
        if let reports = await watch(seconds: seconds, { $0.reload(also: paths, host: host) }) {
            lock.withLock { runaways = 0 }   // a new version gets its chances again
            return reports
        }
        return all.map { path in
            LuaReloadReport(path: path, error: LuaError(stage: .load, kind: .timeout, file: path, message: Self.abandonedLoad(seconds)),
                            keptPrevious: true)
        }
    }

    // MARK: the watchdog

    /// Runs `job` on the current engine, waiting at most `seconds`; `nil` when it overran (that engine is then
    /// replaced). A job queued on an engine another job's overrun abandoned moves to the replacement, once.
    private func watch<T: Sendable>(seconds: Double, _ job: @escaping @Sendable (isolated LuaEngine) -> T) async -> T? {
        var engine = current
        for attempt in 0..<2 {
            switch await race(engine, seconds: seconds, job) {
            case .finished(let value):
                return value
            case .overran:
                replace(engine)
                return nil
            case .abandoned where attempt == 0:
                engine = current
            case .abandoned:
                return nil
            }
        }
        return nil
    }

    /// How one job on one engine ended.
    private enum Race<T: Sendable>: Sendable {
        case finished(T)
        case overran
        case abandoned
    }

    /// Runs `job` on `engine` against a timer of `seconds` and the engine's abandonment.
    private func race<T: Sendable>(_ engine: LuaEngine, seconds: Double,
                                   _ job: @escaping @Sendable (isolated LuaEngine) -> T) async -> Race<T> {
        let cancellation = engine.cancellation
        var token = 0
        let outcome: Race<T> = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            let ticket = JobTicket()
            let timer = WatchdogTimer.shared.schedule(after: seconds) { [self] in
                if ticket.overrun() { lock.withLock { runaways += 1 } }
                once.resume(.overran)
            }
            token = cancellation.whenCancelled { once.resume(.abandoned) }
            engine.perform(job) { [self] value in
                WatchdogTimer.shared.cancel(timer)
                if ticket.finish() { lock.withLock { runaways = max(0, runaways - 1) } }
                once.resume(.finished(value))
            }
        }
        cancellation.forget(token)
        return outcome
    }

    /// Puts a fresh engine, loading the same script versions, in the place of `engine`, then abandons it.
    private func replace(_ engine: LuaEngine) {
        lock.withLock {
            guard self.engine === engine else { return }
            self.engine = LuaEngine(limits: limits, preloaded: engine.cancellation.loadedSources, name: name)
            replaced += 1
        }
        engine.abandon()
    }

    private static func milliseconds(_ seconds: Double) -> String { "\(Int((seconds * 1000).rounded())) ms" }

    private static func abandonedLoad(_ seconds: Double) -> String {
        "loading was abandoned by the watchdog after \(milliseconds(seconds)) (lua_hook_timeout + grace); its Lua VM was replaced"
    }
}

/// One job's race between its end and its deadline, decided under a lock: `overrun()` is true when the
/// deadline came first, `finish()` when the job ends after it had been counted as a runaway.
private final class JobTicket: @unchecked Sendable {
    private let lock = Lock()
    private var finished = false
    private var overran = false

    func overrun() -> Bool {
        lock.withLock {
            guard !finished else { return false }
            overran = true
            return true
        }
    }

    func finish() -> Bool {
        lock.withLock {
            finished = true
            return overran
        }
    }
}

/// Resumes a continuation once; later resumptions are ignored (the job, the timer and the abandonment race).
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var continuation: CheckedContinuation<T, Never>?

    init(_ continuation: CheckedContinuation<T, Never>) { self.continuation = continuation }

    func resume(_ value: T) {
        let pending = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(returning: value)
    }
}
