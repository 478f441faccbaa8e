#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelLua
import KeelPostgres
import Logging

/// Runs hooks of both kinds behind one contract: a shell command through `/bin/sh -c`
/// with its placeholders expanded, or a Lua function in the Lua engine of its hook point.
///
/// Each hook point has an engine (thread and VMs) of its own, created on first use and watched
/// (`WatchedLuaEngine`): a slow event notification hook never delays a validation, promote or follow hook,
/// and a hook the watchdog abandons takes only its own point's engine with it.
///
/// Results follow the shell forms' meaning: exit 0 or Lua `true` allows/succeeds; a non-zero exit, Lua
/// `false, "reason"`, any other return, a Lua error or a timeout refuses (logged as such; for validation
/// that is a veto). Event notification hooks succeed unless they fail; their return value is ignored.
///
/// Events a Lua hook records with `keel.event` are written at once; their notifications are handed to
/// `notifier` (keeld: its notification queue) or, without one (keel), run after the hook call returns —
/// never from inside the call, which holds the VM. Events recorded by an event notification hook are not
/// notified (no loops).
public final class HookRunner: @unchecked Sendable {
    /// The runner of a process that makes no other (the `keel` CLI).
    public static let shared = HookRunner()

    private let lock = Lock()
    private var engines: [String: WatchedLuaEngine] = [:]
    private var pending: [(EventRecord, NodeRecord?)] = []
    private var notifier: (@Sendable (EventRecord, NodeRecord?) -> Void)?
    private var observer: (@Sendable (HookPoint, HookOutcome) -> Void)?

    /// A runner; each point's Lua engine is created when a Lua hook of that point first runs.
    public init() {}

    /// Where notifications of `keel.event` events go (keeld: `{ queue.enqueue($0, primary: $1) }`).
    public func setNotifier(_ notifier: @escaping @Sendable (EventRecord, NodeRecord?) -> Void) {
        lock.withLock { self.notifier = notifier }
    }

    /// Told of every hook that ran (not of an empty key), with its outcome (keeld's metrics).
    public func setObserver(_ observer: @escaping @Sendable (HookPoint, HookOutcome) -> Void) {
        lock.withLock { self.observer = observer }
    }

    /// The Lua engine of hook point `point`, created with `config`'s limits on first use.
    public func engine(for point: HookPoint, config: KeelConfig) -> WatchedLuaEngine {
        lock.withLock {
            if let engine = engines[point.key] { return engine }
            let created = WatchedLuaEngine(limits: Self.limits(config), name: Self.threadName(point))
            engines[point.key] = created
            return created
        }
    }

    /// The engine thread's name (Linux keeps 15 bytes): `keel-lua-event`, `keel-lua-valida`, `keel-lua-promot` …
    static func threadName(_ point: HookPoint) -> String {
        var key = point == .eventNotification ? "event" : point.key
        for affix in ["failover_", "service_", "_command"] { key = key.replacing(affix, with: "") }
        return String(("keel-lua-" + key).prefix(15))
    }

    /// `lua_hook_timeout` and `lua_memory_limit` of `config`.
    public static func limits(_ config: KeelConfig) -> LuaLimits {
        LuaLimits(timeout: Double(config.luaHookTimeout), memoryMegabytes: config.luaMemoryLimitMB)
    }

    /// Runs the hook configured under `point` (or `hook`, when given) with the table `luaContext` (shell:
    /// the placeholders derived from it, `HookContext.placeholders`). `shellTimeout` bounds the shell form
    /// (seconds); the Lua form runs for `lua_hook_timeout`, or `luaBudget` when larger (promote and follow
    /// wait for PostgreSQL). With `dryRun`, `keel.exec`, `keel.shell` and `keel.event` only log what they
    /// would do (`keel hook test --dry-run`).
    public func run(_ point: HookPoint, hook: Hook? = nil, context ops: OpsContext, luaContext: LuaValue,
                    shellTimeout: Double, luaBudget: Double? = nil, dryRun: Bool = false) async -> HookOutcome {
        let hook = hook ?? Hook(point, in: ops.config)
        let outcome: HookOutcome
        switch hook {
        case .none:
            return HookOutcome(kind: .none, command: "", succeeded: true, reason: nil, seconds: 0)
        case .shell(let template):
            outcome = await runShell(point, template, ops: ops, placeholders: HookContext.placeholders(for: point, luaContext),
                                     timeout: shellTimeout)
        case .lua(let reference):
            outcome = await runLua(point, reference, ops: ops, context: luaContext, budget: luaBudget, dryRun: dryRun)
            await flushPending(ops: ops, notify: point != .eventNotification)
        }
        lock.withLock { observer }?(point, outcome)
        return outcome
    }

    /// Loads (or reloads) every Lua script `config`'s hook keys name, each in its point's engine, keeping the
    /// previous version of one whose new version fails; logs each outcome on `logger` and returns the reports.
    /// Does nothing for a point whose hook is not Lua and that has no engine. (`lua_hook_timeout` is read at
    /// each call; `lua_memory_limit` only when a VM is created, as it is not a reloadable key.)
    @discardableResult
    public func reload(config: KeelConfig, logger: Logger) async -> [LuaReloadReport] {
        let host = PostgresKeelHost(context: OpsContext(config: config, logger: logger, hooks: self), hooks: self,
                                    notifyEvents: true, dryRun: false)
        var reports: [LuaReloadReport] = []
        for point in HookPoint.all {
            var paths: [String] = []
            if case .lua(let reference) = Hook(point, in: config) { paths.append(reference.path) }
            let existing = lock.withLock { engines[point.key] }
            guard existing != nil || !paths.isEmpty else { continue }
            let engine = engine(for: point, config: config)
            // lua_hook_timeout is reloadable: it also sets the load budget the watchdog allows a replaced VM.
            var limits = engine.currentLimits
            if limits.timeout != Double(config.luaHookTimeout) {
                limits.timeout = Double(config.luaHookTimeout)
                await engine.setLimits(limits)
            }
            reports += await engine.reload(also: paths, host: host)
        }
        for report in reports {
            if let error = report.error {
                if report.keptPrevious {
                    logger.error("hook script \"\(report.path)\" not reloaded, keeping the previous version: \(error)")
                } else {
                    logger.error("hook script \"\(report.path)\" cannot be loaded: \(error)")
                }
            } else {
                logger.info("hook script \"\(report.path)\" loaded")
            }
        }
        await flushPending(ops: OpsContext(config: config, logger: logger, hooks: self), notify: true)
        return reports
    }

    // MARK: running

    private func runShell(_ point: HookPoint, _ template: String, ops: OpsContext, placeholders: [Character: String],
                          timeout: Double) async -> HookOutcome {
        let expanded = Placeholders.expand(template, placeholders)
        if point == .eventNotification {
            ops.logger.debug("executing event notification command: \(expanded)")
        } else {
            ops.logger.info("executing \(point.key): \(expanded)")
        }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let result = try await ProcessRunner.shell(expanded, timeout: timeout)
            let output = (result.stderr + result.stdout).trimmingWhitespace()
            var outcome = HookOutcome(kind: .shell, command: expanded, succeeded: result.succeeded,
                                      reason: result.succeeded ? nil : "\(point.key) exited with status \(result.status)" + (output.isEmpty ? "" : ": \(output)"),
                                      seconds: Self.seconds(clock.now - started))
            outcome.status = result.status
            outcome.stdout = result.stdout
            outcome.stderr = result.stderr
            return outcome
        } catch {
            return HookOutcome(kind: .shell, command: expanded, succeeded: false, reason: "\(point.key) could not run: \(error)",
                               seconds: Self.seconds(clock.now - started))
        }
    }

    private func runLua(_ point: HookPoint, _ reference: LuaHookReference, ops: OpsContext, context: LuaValue,
                        budget: Double?, dryRun: Bool) async -> HookOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let label = "\(point.key) (\(reference))"
        let engine = self.engine(for: point, config: ops.config)
        let host = PostgresKeelHost(context: ops, hooks: self, notifyEvents: point != .eventNotification, dryRun: dryRun)
        let timeout = max(Double(ops.config.luaHookTimeout), budget ?? 0)
        let result = await engine.call(reference, arguments: [context], host: host, label: label, budget: timeout)
        let seconds = Self.seconds(clock.now - started)
        var outcome: HookOutcome
        if let error = result.error {
            ops.logger.error("\(label) failed after \(String(cFormat: "%.2f", seconds)) s: \(error)", metadata: error.traceback.map { ["traceback": "\($0)"] })
            outcome = HookOutcome(kind: .lua, command: reference.description, succeeded: false, reason: "\(reference) failed: \(error)",
                                  seconds: seconds)
        } else if point == .eventNotification {
            outcome = HookOutcome(kind: .lua, command: reference.description, succeeded: true, reason: nil, seconds: seconds)
        } else {
            let verdict = result.verdict
            let reason = verdict.reason.map { result.values.first == .boolean(false) ? "\(reference) returned false: \($0)" : "\(reference) \($0)" }
            outcome = HookOutcome(kind: .lua, command: reference.description, succeeded: verdict.succeeded, reason: reason, seconds: seconds)
        }
        outcome.values = result.values
        outcome.callSeconds = result.seconds
        outcome.logs = result.logs
        outcome.luaError = result.error
        return outcome
    }

    // MARK: events recorded by Lua hooks

    /// Called by `PostgresKeelHost` (on the VM's thread) for an event recorded by `keel.event`.
    func recorded(_ record: EventRecord, primary: NodeRecord?) {
        lock.withLock {
            if let notifier { notifier(record, primary) } else { pending.append((record, primary)) }
        }
    }

    private func flushPending(ops: OpsContext, notify: Bool) async {
        let events = lock.withLock {
            defer { pending = [] }
            return pending
        }
        guard notify else { return }
        for (record, primary) in events {
            await EventWriter(context: ops).notify(record, primary: primary)
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
