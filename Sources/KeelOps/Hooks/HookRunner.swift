import Foundation
import KeelCore
import KeelLua
import KeelPostgres
import Logging

/// Runs hooks of both kinds behind one contract: a shell command through `/bin/sh -c`
/// with its placeholders expanded, or a Lua function in the process's one Lua VM, created on first use.
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

    private let lock = NSLock()
    private var engine: LuaEngine?
    private var pending: [(EventRecord, NodeRecord?)] = []
    private var notifier: (@Sendable (EventRecord, NodeRecord?) -> Void)?

    /// A runner; its Lua VM is created when a Lua hook first runs.
    public init() {}

    /// Where notifications of `keel.event` events go (keeld: `{ queue.enqueue($0, primary: $1) }`).
    public func setNotifier(_ notifier: @escaping @Sendable (EventRecord, NodeRecord?) -> Void) {
        lock.withLock { self.notifier = notifier }
    }

    /// The process's Lua VM, created with `config`'s limits on first use. Throws `LuaError` when it cannot be.
    public func engine(for config: KeelConfig) throws(LuaError) -> LuaEngine {
        lock.lock()
        defer { lock.unlock() }
        if let engine { return engine }
        let created = try LuaEngine(limits: Self.limits(config))
        engine = created
        return created
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
        switch hook {
        case .none:
            return HookOutcome(kind: .none, command: "", succeeded: true, reason: nil, seconds: 0)
        case .shell(let template):
            return await runShell(point, template, ops: ops, placeholders: HookContext.placeholders(for: point, luaContext),
                                  timeout: shellTimeout)
        case .lua(let reference):
            let outcome = await runLua(point, reference, ops: ops, context: luaContext, budget: luaBudget, dryRun: dryRun)
            await flushPending(ops: ops, notify: point != .eventNotification)
            return outcome
        }
    }

    /// Loads (or reloads) every Lua script `config`'s hook keys name, keeping the previous version of one
    /// whose new version fails; logs each outcome on `logger` and returns the reports. Does nothing when no
    /// hook is Lua and no VM exists. (`lua_hook_timeout` is read at each call; `lua_memory_limit` only when
    /// the VM is created, as it is not a reloadable key.)
    @discardableResult
    public func reload(config: KeelConfig, logger: Logger) async -> [LuaReloadReport] {
        let paths = HookPoint.all.compactMap { point -> String? in
            if case .lua(let reference) = Hook(point, in: config) { return reference.path }
            return nil
        }
        let existing = lock.withLock { self.engine }
        guard existing != nil || !paths.isEmpty else { return [] }
        let engine: LuaEngine
        do {
            engine = try self.engine(for: config)
        } catch {
            logger.error("unable to start the Lua VM: \(error)")
            return []
        }
        let host = PostgresKeelHost(context: OpsContext(config: config, logger: logger, hooks: self), hooks: self,
                                    notifyEvents: true, dryRun: false)
        let reports = await engine.reload(also: paths, host: host)
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
            let output = (result.stderr + result.stdout).trimmingCharacters(in: .whitespacesAndNewlines)
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
        let engine: LuaEngine
        do {
            engine = try self.engine(for: ops.config)
        } catch {
            ops.logger.error("\(label): unable to start the Lua VM: \(error)")
            return HookOutcome(kind: .lua, command: reference.description, succeeded: false, reason: "\(reference) failed: \(error)",
                               seconds: Self.seconds(clock.now - started))
        }
        let host = PostgresKeelHost(context: ops, hooks: self, notifyEvents: point != .eventNotification, dryRun: dryRun)
        let timeout = max(Double(ops.config.luaHookTimeout), budget ?? 0)
        let result = await engine.call(reference, arguments: [context], host: host, label: label, budget: timeout)
        let seconds = Self.seconds(clock.now - started)
        var outcome: HookOutcome
        if let error = result.error {
            ops.logger.error("\(label) failed: \(error)", metadata: error.traceback.map { ["traceback": "\($0)"] })
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
