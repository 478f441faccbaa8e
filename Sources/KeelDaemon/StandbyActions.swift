import KeelCore
import KeelOps
import KeelPostgres

/// keeld's promote and follow: the configured `promote_command` / `follow_command` (shell or Lua), or
/// Keel's own operation when empty. Each is bounded: the operations by their own timeouts
/// (`promote_check_timeout`, `standby_follow_timeout`), the hooks by the same plus a margin. Their event
/// notifications are queued (`DaemonRuntime.opsContext`), never run inline.
enum StandbyActions {
    /// `promote_command`, or Keel's own promote (`pg_promote()` and the metadata) when it is empty. A Lua
    /// `promote_command` returns `true` (or `false, "reason"`); Keel then waits for the server to leave
    /// recovery and records the promotion itself (`RoleBookkeeping.promoted`). `connection`: a new local
    /// connection when one was opened.
    static func promote(runtime: DaemonRuntime, term: Int, formerPrimary: NodeRecord?) async
        -> (ok: Bool, detail: String, connection: Connection?) {
        let config = runtime.config
        let started = runtime.now
        let hook = Hook(.promote, in: config)
        var connection: Connection?
        switch hook {
        case .none:
            do {
                _ = try await StandbyPromote(context: runtime.opsContext()).run()
            } catch {
                return (false, "promotion failed: \(error)", nil)
            }
        case .shell:
            let outcome = await runtime.hooks.run(.promote, hook: hook, context: runtime.opsContext(), luaContext: [:],
                                                  shellTimeout: Double(config.int("promote_check_timeout")) + 30)
            guard outcome.succeeded else { return (false, outcome.reason ?? "promote_command failed", nil) }
        case .lua:
            let timeout = Double(config.int("promote_check_timeout"))
            let outcome = await runtime.hooks.run(.promote, hook: hook, context: runtime.opsContext(),
                                                  luaContext: HookContext.promote(config: config, formerPrimaryID: formerPrimary?.nodeID, term: term),
                                                  shellTimeout: timeout, luaBudget: timeout)
            guard outcome.succeeded else { return (false, outcome.reason ?? "promote_command failed", nil) }
            guard let primary = await RoleBookkeeping.waitForPromotion(runtime: runtime, timeout: timeout) else {
                return (false, "\(hook) succeeded but the server is still in recovery after \(Int(timeout)) s (promote_check_timeout)", nil)
            }
            connection = primary
            RoleBookkeeping.promoted(runtime: runtime, on: primary, formerPrimary: formerPrimary)
        }
        return (true, "promoted in \(Int((runtime.now - started) * 1000)) ms", connection)
    }

    /// `follow_command` with `%n` = the new primary, or Keel's own follow when it is empty. A Lua
    /// `follow_command` gets the follow table and returns `true` (or `false, "reason"`); Keel then records
    /// the new upstream on the primary (`RoleBookkeeping.followed`).
    static func follow(runtime: DaemonRuntime, primaryID: Int, target: NodeRecord?, formerUpstreamID: Int?) async -> (Bool, String) {
        let config = runtime.config
        let hook = Hook(.follow, in: config)
        switch hook {
        case .none:
            do {
                _ = try await StandbyFollow(context: runtime.opsContext(), options: .init(upstreamNodeID: primaryID)).run()
                return (true, "following node \(primaryID)")
            } catch {
                return (false, "follow failed: \(error)")
            }
        case .shell:
            let outcome = await runtime.hooks.run(.follow, hook: hook, context: runtime.opsContext(),
                                                  luaContext: ["upstream_id": .integer(Int64(primaryID))],
                                                  shellTimeout: Double(config.int("standby_follow_timeout")) + 60)
            guard outcome.succeeded else { return (false, outcome.reason ?? "follow_command failed") }
        case .lua:
            let timeout = Double(config.int("standby_follow_timeout"))
            let context = HookContext.follow(config: config, upstreamID: primaryID, upstream: target,
                                             formerUpstreamID: formerUpstreamID)
            let outcome = await runtime.hooks.run(.follow, hook: hook, context: runtime.opsContext(), luaContext: context,
                                                  shellTimeout: timeout, luaBudget: timeout)
            guard outcome.succeeded else { return (false, outcome.reason ?? "follow_command failed") }
            RoleBookkeeping.followed(runtime: runtime, upstream: target, upstreamID: primaryID)
        }
        return (true, "following node \(primaryID)")
    }
}
