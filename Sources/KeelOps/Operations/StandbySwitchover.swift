#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// What `StandbySwitchover.run()` did (or, with `--dry-run`, checked).
public struct SwitchoverResult: Sendable, Equatable {
    /// The promoted node (this node).
    public var newPrimaryID: Int
    /// The demoted primary.
    public var formerPrimaryID: Int
    /// Seconds from the stop request to the old primary until this node accepted writes (0 with `--dry-run`).
    public var elapsedSeconds: Double
    /// True when nothing was changed (`--dry-run`).
    public var dryRun: Bool
}

/// `keel standby switchover [--siblings-follow] [--dry-run] [--force-rewind] [--always-promote] [--force]
/// [--config-files LIST] [-R USER]`, run on the standby that is to become the primary: a planned role swap
/// without data loss, as repmgr 5.3's `do_standby_switchover`.
///
/// Pre-checks (nothing changes when one fails; exit 18, or 12 when ssh fails): this node is a registered
/// standby streaming from the primary; the primary is reachable and `keel` runs there (remote
/// `node status --is-shutdown-cleanly` answers `UP`); the decisions of `SwitchoverPrecheck` (replication lag
/// against `replication_lag_critical`, free walsenders and slots here for the old primary and, with
/// `--siblings-follow`, the siblings, which must be reachable too).
/// Then: keeld is paused on every node (`DaemonPauser`); the old primary is stopped with the remote
/// `keel node service --action=stop --checkpoint`; its clean shutdown is confirmed within
/// `shutdown_check_timeout` seconds (remote `node status --is-shutdown-cleanly`: `DOWN` with the shutdown
/// checkpoint's location); this node must have received that checkpoint within
/// `wal_receive_check_timeout` seconds (no data lost; `--always-promote` promotes anyway). Any failure up
/// to here starts the old primary again and exits 18. Then this node is promoted (`StandbyPromote`), the old
/// primary rejoins as its standby (remote `keel node rejoin -d THIS_CONNINFO [--force-rewind]
/// [--config-files …]`), its slot for this node is dropped, the siblings follow with `--siblings-follow`,
/// keeld is unpaused and the event `standby_switchover` recorded (`%p` = the demoted primary). A failure
/// after the promotion exits 22 (ERR_SWITCHOVER_INCOMPLETE) with the exact commands to run next.
/// `--dry-run` runs every check (also on the remote nodes) and prints each step and command.
public struct StandbySwitchover {
    /// The command's own options.
    public struct Options: Sendable, Equatable {
        /// `--siblings-follow`: the other standbys (and the witness) of the old primary follow this node.
        public var siblingsFollow: Bool
        /// `--force-rewind`: passed to the old primary's `node rejoin` (pg_rewind when it diverged).
        public var forceRewind: Bool
        /// `--always-promote`: promote even when this node did not receive the old primary's shutdown checkpoint.
        public var alwaysPromote: Bool
        /// `--config-files`: passed to the old primary's `node rejoin`.
        public var configFiles: [String]
        /// `-R/--remote-user`: ssh user for the remote commands.
        public var remoteUser: String?
        /// `--force-rewind=PATH`: the pg_rewind program the old primary's `node rejoin` runs.
        public var rewindPath: String?
        /// `--repmgrd-no-pause`: do not pause keeld during the switchover.
        public var noPause: Bool
        /// `--repmgrd-force-unpause`: afterwards unpause keeld on every node, also those paused before.
        public var forceUnpause: Bool

        /// Makes the options.
        public init(siblingsFollow: Bool = false, forceRewind: Bool = false, alwaysPromote: Bool = false,
                    configFiles: [String] = [], remoteUser: String? = nil, rewindPath: String? = nil,
                    noPause: Bool = false, forceUnpause: Bool = false) {
            self.siblingsFollow = siblingsFollow
            self.forceRewind = forceRewind || rewindPath != nil
            self.alwaysPromote = alwaysPromote
            self.configFiles = configFiles
            self.remoteUser = remoteUser
            self.rewindPath = rewindPath
            self.noPause = noPause
            self.forceUnpause = forceUnpause
        }
    }

    /// This node's configuration, logger and options (`dryRun`, `force`).
    public let context: OpsContext
    /// The command's options.
    public let options: Options

    /// Makes the operation for the standby configured in `context`.
    public init(context: OpsContext, options: Options) {
        self.context = context
        self.options = options
    }

    /// Runs the pre-checks, then prints (`--dry-run`) or executes the plan (`SwitchoverStep.plan`). Throws
    /// `KeelError`: 18 (ERR_SWITCHOVER_FAIL) when a check fails or the switchover could be undone (nothing
    /// changed); 12 when ssh to the primary fails; 6 when this node is unreachable; 22
    /// (ERR_SWITCHOVER_INCOMPLETE) when this node was promoted but the old primary did not rejoin or a
    /// sibling did not follow (the message lists the commands to run).
    public func run() async throws -> SwitchoverResult {
        let checked = try await precheck()
        let progress = SwitchoverProgress()
        let plan = try await makePlan(checked, progress: progress)
        if context.dryRun {
            plan.describe(to: context.logger)
        } else {
            try await plan.execute(logger: context.logger)
        }
        return SwitchoverResult(newPrimaryID: context.config.nodeID, formerPrimaryID: checked.primaryRecord.nodeID,
                                elapsedSeconds: progress.elapsed, dryRun: context.dryRun)
    }

    /// The remote `node rejoin` of the old primary, with `--force-rewind[=PATH]` and `--config-files`.
    var rejoinArguments: [String] {
        var arguments = ["node", "rejoin", "-d", context.config.conninfo]
        if options.forceRewind { arguments.append(options.rewindPath.map { "--force-rewind=\($0)" } ?? "--force-rewind") }
        if !options.configFiles.isEmpty { arguments += ["--config-files", options.configFiles.joined(separator: ",")] }
        return arguments
    }

    /// The exit-22 error: what went wrong and what to run next, one per line.
    func incomplete(_ problems: [String], commands: [String]) -> KeelError {
        KeelError(.switchoverIncomplete, "STANDBY SWITCHOVER is incomplete: this node is the new primary",
                  detail: problems.joined(separator: "\n"),
                  hint: "run next:\n" + commands.map { "  " + $0 }.joined(separator: "\n"))
    }

    /// Drops this node's former slot on the demoted primary (now a standby); failures are warnings.
    func dropSlot(_ slotName: String, on node: NodeRecord) {
        do {
            let conn = try Connection(conninfo: node.conninfo)
            try conn.query("SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active",
                           [slotName])
            context.logger.info("replication slot \"\(slotName)\" dropped on \(node.nodeLabel)")
        } catch {
            context.logger.warning("unable to drop replication slot \"\(slotName)\" on \(node.nodeLabel): \(error)")
        }
    }
}
