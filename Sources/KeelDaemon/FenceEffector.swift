#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KeelCore
import KeelOps
import KeelPostgres

/// The effects of fencing and unfencing the local server. Fencing, in order: the fence fact is persisted;
/// `synchronous_standby_names` is set to a name no standby has and the configuration reloaded, so commits
/// stop being acknowledged within milliseconds; then `fence_action` (demote: `standby.signal`, an empty
/// `primary_conninfo` and a restart in recovery; stop); then `fence_command`; then event `node_fenced`.
/// The `synchronous_standby_names` setting stays while the node is fenced (a server started again by hand
/// as a primary acknowledges nothing) and is put back when the fence ends.
struct FenceEffector {
    let runtime: DaemonRuntime

    var store: FenceStore { FenceStore(dataDirectory: runtime.config.dataDirectory) }

    /// Fences the local server (`local`, running as primary). `eventOn` is where the `node_fenced` row is
    /// written (the current primary for a former primary; `nil` when none is reachable), `primary` its record.
    /// Returns true when `fence_action` succeeded (false: commits stay unacknowledged, the caller retries).
    @discardableResult
    func fence(local: Connection, reason: FenceReason, details: String, timeline: Int, term: Int?,
               eventOn: Connection?, primary: NodeRecord?) async -> Bool {
        let config = runtime.config
        let settings = FenceSettings(config: config)
        let log = runtime.logger
        let started = runtime.now
        let previous = store.load(nodeID: config.nodeID)?.previousSynchronousStandbyNames ?? autoConfSynchronousNames(local)
        let fact = FenceFact(nodeID: config.nodeID, reason: reason, timeline: timeline, term: term, action: settings.action,
                             details: details, previousSynchronousStandbyNames: previous, fencedAt: Timestamp.now(zone: true))
        do {
            try store.save(fact)
        } catch {
            log.error("unable to persist the fence: \((error as? KeelError)?.message ?? "\(error)"); fencing anyway")
        }
        let stopped = stopAcknowledging(local)
        log.error("fencing \(config.nodeLabel): \(details)", metadata: [
            "step": "\(stopped ? "commits no longer acknowledged" : "synchronous_standby_names could not be set") after \(Self.ms(runtime.now - started)) ms",
        ])
        let (ok, result) = await apply(settings.action, local: local)
        await finishFence(fact: fact, succeeded: ok, result: result, eventOn: eventOn, primary: primary)
        return ok
    }

    /// The last steps of every fence: `fence_command`, then the log line and event `node_fenced`.
    func finishFence(fact: FenceFact, succeeded: Bool, result: String, eventOn: Connection?, primary: NodeRecord?) async {
        let config = runtime.config
        let hook = await runFenceCommand(fact: fact)
        let summary = "\(config.nodeLabel) fenced (\(fact.action)): \(fact.details); \(result)" + (hook.map { "; \($0)" } ?? "")
        runtime.logger.notice("\(summary)")
        runtime.event(.nodeFenced, success: succeeded, details: summary, on: eventOn, primary: primary)
    }

    /// `fence_action` for a server keeld has just ended (`SilentPrimaryFence`): demote starts it again in
    /// recovery (`standby.signal`; crash recovery runs first), stop leaves it down. Returns a sentence.
    func applyAfterKill(_ action: FenceAction) async -> String {
        guard action == .demote else { return "server left stopped" }
        do {
            try writeStandbySignal()
            // The killed postmaster may be a zombie its parent (e.g. a `pg_ctl -w start` still polling) has
            // not reaped yet: PostgreSQL refuses to start while its lock file names a live pid.
            if let pid = DataDirectory(runtime.config.dataDirectory).removeStaleLockFile() {
                runtime.logger.info("removed the stale postmaster.pid of the ended server (PID \(pid))")
            }
            try await LocalService(context: runtime.opsContext()).run("start", timeout: 120, failure: .systemFailure)
            return "started again as a read-only standby"
        } catch {
            let message = (error as? KeelError).map { [$0.message, $0.detail].compactMap { $0 }.joined(separator: ": ") } ?? "\(error)"
            runtime.logger.error("unable to start the fenced server in recovery: \(message)")
            return "left stopped: starting it in recovery failed: \(message)"
        }
    }

    /// `standby.signal` in the data directory, mode 0600.
    private func writeStandbySignal() throws {
        let path = runtime.config.dataDirectory + "/standby.signal"
        guard FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0o600]) else {
            throw KeelError(.systemFailure, "unable to write \"\(path)\"")
        }
    }

    /// Applies the fast step again (a fenced server found running as primary).
    func reassert(local: Connection) {
        if stopAcknowledging(local) {
            runtime.logger.warning("\(runtime.config.nodeLabel) is fenced but runs as primary: commits are not acknowledged")
        }
    }

    /// `synchronous_standby_names` = a name no standby has, then a reload. True when both succeeded.
    @discardableResult
    func stopAcknowledging(_ local: Connection) -> Bool {
        let name = FenceFact.fencedStandbyName(nodeID: runtime.config.nodeID)
        do {
            _ = try local.query("ALTER SYSTEM SET synchronous_standby_names = '\(name)'")
            _ = try local.query("SELECT pg_catalog.pg_reload_conf()")
            return true
        } catch {
            runtime.logger.error("unable to stop acknowledging commits: \(error.message)")
            return false
        }
    }

    /// Puts back `synchronous_standby_names` as it was before the fence and reloads.
    func restoreAcknowledging(_ local: Connection, fact: FenceFact) {
        let sql = fact.previousSynchronousStandbyNames.map { "ALTER SYSTEM SET synchronous_standby_names = " + SQLLiteral.string($0) }
            ?? "ALTER SYSTEM RESET synchronous_standby_names"
        do {
            _ = try local.query(sql)
            _ = try local.query("SELECT pg_catalog.pg_reload_conf()")
        } catch {
            runtime.logger.error("unable to restore synchronous_standby_names: \(error.message)")
        }
    }

    /// Ends the fence: restores `synchronous_standby_names` on `local` and removes the persisted fact.
    func endFence(_ local: Connection, fact: FenceFact) {
        restoreAcknowledging(local, fact: fact)
        store.clear()
    }

    /// `fence_action`: the server restarted in recovery, or stopped. Returns success and a sentence.
    private func apply(_ action: FenceAction, local: Connection) async -> (Bool, String) {
        let context = runtime.opsContext()
        do {
            switch action {
            case .demote:
                // A former standby keeps its old primary_conninfo: the demoted node must stream from nobody.
                _ = try? local.query("ALTER SYSTEM SET primary_conninfo = ''")
                try writeStandbySignal()
                try await LocalService(context: context).run("restart", timeout: 120, failure: .systemFailure)
                return (true, "restarted as a read-only standby")
            case .stop:
                try await LocalService(context: context).run("stop", timeout: 120, failure: .systemFailure)
                return (true, "server stopped")
            }
        } catch {
            let message = (error as? KeelError).map { [$0.message, $0.detail].compactMap { $0 }.joined(separator: ": ") } ?? "\(error)"
            runtime.logger.error("fence_action=\(action.rawValue) failed: \(message); commits stay unacknowledged")
            return (false, "fence_action=\(action.rawValue) failed: \(message)")
        }
    }

    /// `fence_command` (shell: `%n %a %d`; Lua: the fence table). Returns a sentence, `nil` when unset.
    private func runFenceCommand(fact: FenceFact) async -> String? {
        let config = runtime.config
        let hook = Hook(.fence, in: config)
        guard hook != .none else { return nil }
        let outcome = await runtime.hooks.run(.fence, hook: hook, context: runtime.opsContext(),
                                              luaContext: HookContext.fence(config: config, fact: fact), shellTimeout: 30)
        if !outcome.succeeded { runtime.logger.error("fence_command failed: \(outcome.reason ?? "?")") }
        return outcome.succeeded ? "fence_command succeeded" : "fence_command failed: \(outcome.reason ?? "?")"
    }

    /// The value `ALTER SYSTEM` set for `synchronous_standby_names` (`nil` when it comes from elsewhere).
    private func autoConfSynchronousNames(_ local: Connection) -> String? {
        guard let row = try? local.queryRow("""
            SELECT setting, sourcefile FROM pg_catalog.pg_settings WHERE name = 'synchronous_standby_names'
            """), row.string("sourcefile")?.hasSuffix("postgresql.auto.conf") == true,
              let setting = row.string("setting"),
              setting != FenceFact.fencedStandbyName(nodeID: runtime.config.nodeID) else { return nil }
        return setting
    }


    static func ms(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }
}
