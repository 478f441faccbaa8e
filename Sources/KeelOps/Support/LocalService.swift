#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore

/// Starting, restarting and promoting the local PostgreSQL server: `service_*_command` when configured,
/// else `pg_ctl` from `pg_bindir` on `data_directory` (with `pg_ctl_options`), as repmgr 5.3's
/// `get_server_action` does.
public struct LocalService {
    /// The context whose configuration names the commands and the data directory.
    public let context: OpsContext

    /// Makes the helper for `context`.
    public init(context: OpsContext) { self.context = context }

    /// The command line for `action` (`restart`, `promote`, `start`, `stop`, `reload`): the configured
    /// `service_<action>_command`, else `pg_ctl … -w -D <data_directory> <action>` (restart: `-m fast`, with
    /// the server log appended to `<data_directory>/log/keel-pg_ctl.log` so that no output pipe stays open).
    /// Throws `KeelError` 13 when `pg_ctl` cannot be found.
    public func commandLine(_ action: String) throws -> String {
        let configured = context.config.string("service_\(action)_command")
        if !configured.isEmpty { return configured }
        let pgCtl = try PostgresBinaries(bindir: context.config.pgBindir).path("pg_ctl")
        let dataDirectory = context.config.dataDirectory
        let extra = context.config.string("pg_ctl_options")
        var words = ["-w", "-D", dataDirectory]
        switch action {
        case "restart", "start":
            if action == "restart" { words += ["-m", "fast"] }
            if !ShellWords.split(extra).contains("-l") { words += ["-l", dataDirectory + "/log/keel-pg_ctl.log"] }
        case "stop":
            words += ["-m", "fast"]
        default:
            break
        }
        words.append(action)
        let quoted = words.map(Placeholders.shellQuote).joined(separator: " ")
        return Placeholders.shellQuote(pgCtl) + (extra.isEmpty ? "" : " " + extra) + " " + quoted
    }

    /// The actions that carry out `action`: a restart without `service_restart_command` but with a
    /// configured `service_start_command` or `service_stop_command` is a stop followed by a start, each
    /// with its own command (as repmgr does), so that an operator's service manager is never bypassed.
    public static func actions(for action: String, in config: KeelConfig) -> [String] {
        guard action == "restart", config.string("service_restart_command").isEmpty,
              !config.string("service_start_command").isEmpty || !config.string("service_stop_command").isEmpty else { return [action] }
        return ["stop", "start"]
    }

    /// Runs `action` through `/bin/sh -c` (up to `timeout` seconds), or the Lua function a `lua:` value of
    /// `service_<action>_command` names (it returns `true`, or `false, "reason"`). Throws `KeelError` with
    /// `failure` as exit status and the command's output (or the Lua reason) when it fails.
    public func run(_ action: String, timeout: Double = 120, failure: ExitStatus) async throws {
        let steps = Self.actions(for: action, in: context.config)
        if steps != [action] {
            context.logger.info("\"service_restart_command\" is not set: restarting with \"stop\", then \"start\"")
            for step in steps { try await run(step, timeout: timeout, failure: failure) }
            return
        }
        let point = HookPoint.service(action)
        if case .lua = Hook(point, in: context.config) {
            let outcome = await context.hooks.run(point, context: context, luaContext: HookContext.service(config: context.config, action: action),
                                                  shellTimeout: timeout, luaBudget: timeout)
            guard outcome.succeeded else {
                throw KeelError(failure, "unable to \(action) the local PostgreSQL server", detail: outcome.reason,
                                hint: "hook: \(outcome.command)")
            }
            return
        }
        let command = try commandLine(action)
        if action == "restart" || action == "start", context.config.string("service_\(action)_command").isEmpty {
            try? FileManager.default.createDirectory(atPath: context.config.dataDirectory + "/log", withIntermediateDirectories: true)
        }
        context.logger.info("executing: \(command)")
        let result = try await ProcessRunner.shell(command, timeout: timeout)
        guard result.succeeded else {
            // pg_ctl only says "examine the log output": the reason is in the server's log.
            let output = (result.stderr + result.stdout).trimmingWhitespace()
            let log = ServerLogTail.describe(config: context.config, action: action)
            throw KeelError(failure, "unable to \(action) the local PostgreSQL server (exit status \(result.status))",
                            detail: [output, log].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "\n"),
                            hint: "command: \(command)")
        }
    }
}
