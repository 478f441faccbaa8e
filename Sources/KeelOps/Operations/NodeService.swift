#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// `keel node service --action=start|stop|restart|reload|promote [--checkpoint] [--list-actions] [--dry-run]`:
/// controls this node's PostgreSQL server with `service_<action>_command` when configured, else `pg_ctl`
/// from `pg_bindir` on `data_directory` (`LocalService`), as repmgr 5.3's `do_node_service`. `standby
/// switchover` runs it on the old primary (`--action=stop --checkpoint`).
public struct NodeService {
    /// The actions, in `--list-actions` order.
    public enum Action: String, Sendable, CaseIterable {
        case start, stop, restart, reload, promote
    }

    /// The node's configuration, logger and options (`dryRun`).
    public let context: OpsContext
    /// `--action` (`nil` only with `--list-actions`: every action is listed).
    public let action: Action?
    /// `--checkpoint`: issue `CHECKPOINT` before a stop or restart, so that the shutdown checkpoint has
    /// little to write (repmgr's advice for a fast switchover).
    public let checkpoint: Bool
    /// `--list-actions`: print the command of each action (or of `--action`) and do nothing.
    public let listActions: Bool

    /// Makes the operation.
    public init(context: OpsContext, action: Action?, checkpoint: Bool = false, listActions: Bool = false) {
        self.context = context
        self.action = action
        self.checkpoint = checkpoint
        self.listActions = listActions
    }

    /// Lists, prints (`--dry-run`) or runs the action. Throws `KeelError`: 1 without `--action` (and without
    /// `--list-actions`), or `--checkpoint` with an action other than stop/restart; 5 (ERR_LOCAL_COMMAND)
    /// when the command fails; 13 when `pg_ctl` cannot be found.
    public func run() async throws {
        let service = LocalService(context: context)
        if listActions {
            let shown = action.map { [$0] } ?? Action.allCases
            var lines = ["Following commands would be executed for each action:", ""]
            for a in shown {
                let name = String(repeating: " ", count: max(0, 7 - a.rawValue.count)) + a.rawValue
                lines.append("  \(name): \"\(try service.commandLine(a.rawValue))\"")
            }
            context.output(lines.joined(separator: "\n"))
            return
        }
        guard let action else {
            throw KeelError(.badConfig, "no action given", hint: "use --action=start|stop|restart|reload|promote, or --list-actions")
        }
        if checkpoint, action != .stop, action != .restart {
            throw KeelError(.badConfig, "--checkpoint can only be used with --action=stop or --action=restart")
        }
        let command = try service.commandLine(action.rawValue)
        if context.dryRun {
            if checkpoint { context.logger.info("would issue CHECKPOINT on the local server") }
            context.logger.info("would execute server command \"\(command)\"")
            return
        }
        if checkpoint { issueCheckpoint() }
        try await service.run(action.rawValue, timeout: 600, failure: .localCommand)
        context.logger.notice("\(action.rawValue) of the local PostgreSQL server done")
    }

    /// `CHECKPOINT` on the local server; a failure (server down, not a superuser) is a warning, as repmgr.
    private func issueCheckpoint() {
        do {
            let local = try Connection(conninfo: context.config.conninfo)
            context.logger.notice("issuing CHECKPOINT on \(context.config.nodeLabel)")
            try local.query("CHECKPOINT")
        } catch {
            context.logger.warning("unable to issue CHECKPOINT: \(error)")
        }
    }
}
