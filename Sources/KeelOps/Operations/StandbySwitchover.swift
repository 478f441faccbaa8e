import Foundation
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

        /// Makes the options.
        public init(siblingsFollow: Bool = false, forceRewind: Bool = false, alwaysPromote: Bool = false,
                    configFiles: [String] = [], remoteUser: String? = nil) {
            self.siblingsFollow = siblingsFollow
            self.forceRewind = forceRewind
            self.alwaysPromote = alwaysPromote
            self.configFiles = configFiles
            self.remoteUser = remoteUser
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

    /// Runs the switchover. Throws `KeelError`: 18 (ERR_SWITCHOVER_FAIL) when a check fails or the
    /// switchover could be undone (nothing changed); 12 when ssh to the primary fails; 6 when this node is
    /// unreachable; 22 (ERR_SWITCHOVER_INCOMPLETE) when this node was promoted but the old primary did not
    /// rejoin or a sibling did not follow (the message lists the commands to run).
    public func run() async throws -> SwitchoverResult {
        let config = context.config
        let log = context.logger
        let plan = try await precheck()
        let primaryLabel = plan.primaryLabel
        let me = config.nodeLabel
        let stopArgs = ["node", "service", "--action=stop", "--checkpoint"]
        var rejoinArgs = ["node", "rejoin", "-d", config.conninfo]
        if options.forceRewind { rejoinArgs.append("--force-rewind") }
        if !options.configFiles.isEmpty { rejoinArgs += ["--config-files", options.configFiles.joined(separator: ",")] }
        let pauser = DaemonPauser(context: context)
        let toPause = try pauser.planned(primary: plan.primary, nodes: plan.nodes)
        let siblings = options.siblingsFollow ? plan.siblings.filter { s in !plan.unreachableSiblings.contains { $0.nodeID == s.nodeID } } : []
        let newPrimaryRecord = plan.localRecord

        if context.dryRun {
            let stopCommand = try await plan.primaryRemote.run(["node", "service", "--list-actions", "--action=stop"], timeout: 60)
            log.info("prerequisites for executing STANDBY SWITCHOVER are met")
            log.info(toPause.isEmpty ? "no keeld is running: nothing to pause"
                                     : "would pause keeld on node(s) \(toPause.map(String.init).joined(separator: ", "))")
            log.info("would stop \(primaryLabel) with: \(Conninfo.masked(plan.primaryRemote.display(stopArgs)))")
            if stopCommand.succeeded, let line = stopCommand.stdout.split(whereSeparator: \.isNewline).last(where: { $0.contains("stop:") }) {
                log.info("  which runs on that node: \(line.trimmingCharacters(in: .whitespaces).dropFirst("stop: ".count))")
            }
            log.info("would wait up to \(config.int("shutdown_check_timeout")) seconds (shutdown_check_timeout) for its clean shutdown, then check that this node received its shutdown checkpoint (wal_receive_check_timeout: \(config.int("wal_receive_check_timeout")) seconds)")
            log.info("would promote \(me)")
            log.info("would rejoin \(primaryLabel) with: \(Conninfo.masked(plan.primaryRemote.display(rejoinArgs)))")
            for sibling in siblings {
                log.info("would make sibling \(sibling.nodeLabel) follow with: \(SiblingsFollow(context: context, remoteUser: options.remoteUser).display(sibling, newPrimary: newPrimaryRecord))")
            }
            if !toPause.isEmpty { log.info("would unpause keeld on node(s) \(toPause.map(String.init).joined(separator: ", "))") }
            return SwitchoverResult(newPrimaryID: config.nodeID, formerPrimaryID: plan.primaryRecord.nodeID, elapsedSeconds: 0, dryRun: true)
        }

        try await pauser.pause(toPause, primary: plan.primary, nodes: plan.nodes)
        let clock = ContinuousClock()
        let started = clock.now
        let checkpoint: LSN
        do {
            checkpoint = try await stopPrimary(plan, arguments: stopArgs)
            try await confirmReceived(checkpoint, plan: plan)
        } catch let error as KeelError {
            throw await undo(plan, paused: toPause, because: error)
        }
        // The promotion (StandbyPromote's own checks find no running primary now).
        var promoteContext = context
        promoteContext.dryRun = false
        do {
            _ = try await StandbyPromote(context: promoteContext).run()
        } catch let error as KeelError {
            let local = try? Connection(conninfo: config.conninfo)
            if (try? local?.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r"))?.bool("r") == false {
                pauser.unpause(toPause, primary: local)
                throw incomplete(["the promotion of \(me) was not confirmed in time but it now runs as primary: \(error.message)"],
                                 commands: ["on \(me): keel -f \(config.path) standby promote   (records the metadata)",
                                            Conninfo.masked(plan.primaryRemote.display(rejoinArgs))])
            }
            throw await undo(plan, paused: toPause, because: KeelError(.switchoverFailed, "promotion of \(me) failed: \(error.message)", detail: error.detail))
        }
        let elapsed = StandbyPromote.seconds(clock.now - started)
        let newPrimary = try? Connection(conninfo: config.conninfo)

        // The old primary becomes a standby of this node.
        var problems: [String] = []
        var commands: [String] = []
        log.notice("rejoining \(primaryLabel) as a standby of \(me)")
        let rejoinTimeout = Double(config.int("node_rejoin_timeout") + 900)
        do {
            let result = try await plan.primaryRemote.run(rejoinArgs, timeout: rejoinTimeout)
            if result.succeeded {
                log.notice("\(primaryLabel) is now a standby of \(me)")
                if config.useReplicationSlots { dropSlot(NodeRecord.slotName(for: config.nodeID), on: plan.primaryRecord) }
            } else {
                problems.append("NODE REJOIN of \(primaryLabel) failed with exit status \(result.status): \(SiblingsFollow.tail(result.stderr + result.stdout))")
                commands.append(Conninfo.masked(plan.primaryRemote.display(rejoinArgs)))
            }
        } catch let error as KeelError {
            problems.append("NODE REJOIN of \(primaryLabel) could not be run: \(error.message)")
            commands.append(Conninfo.masked(plan.primaryRemote.display(rejoinArgs)))
        }
        if options.siblingsFollow {
            for failure in await SiblingsFollow(context: context, remoteUser: options.remoteUser).run(siblings, newPrimary: newPrimaryRecord) {
                problems.append("sibling \(failure.node.nodeLabel) did not follow: \(failure.reason)")
                commands.append(failure.command)
            }
            for sibling in plan.unreachableSiblings {
                problems.append("sibling \(sibling.nodeLabel) was unreachable and did not follow")
                commands.append(SiblingsFollow(context: context, remoteUser: options.remoteUser).display(sibling, newPrimary: newPrimaryRecord))
            }
        } else if !plan.siblings.isEmpty {
            log.warning("\(plan.siblings.count) sibling node(s) remain attached to \(primaryLabel), now a standby (cascading)",
                        metadata: ["hint": "use --siblings-follow to make them follow the new primary, or run \"keel standby follow\" on them"])
        }
        pauser.unpause(toPause, primary: newPrimary)
        let details = "\(config.nodeLabel) promoted to primary, \(plan.primaryRecord.nodeLabel) demoted to standby"
        await EventWriter(context: context).record(.standbySwitchover, successful: problems.isEmpty,
                                                   details: problems.isEmpty ? details : details + "; incomplete: " + problems.joined(separator: "; "),
                                                   on: newPrimary, primary: plan.primaryRecord)
        guard problems.isEmpty else { throw incomplete(problems, commands: commands) }
        log.notice("STANDBY SWITCHOVER has completed successfully", metadata: ["detail": "\(details)"])
        log.info("switchover took \(String(format: "%.1f", elapsed)) seconds from the stop request to the promotion")
        return SwitchoverResult(newPrimaryID: config.nodeID, formerPrimaryID: plan.primaryRecord.nodeID, elapsedSeconds: elapsed, dryRun: false)
    }

    /// The exit-22 error: what went wrong and what to run next, one per line.
    func incomplete(_ problems: [String], commands: [String]) -> KeelError {
        KeelError(.switchoverIncomplete, "STANDBY SWITCHOVER is incomplete: this node is the new primary",
                  detail: problems.joined(separator: "\n"),
                  hint: "run next:\n" + commands.map { "  " + $0 }.joined(separator: "\n"))
    }

    /// Drops this node's former slot on the demoted primary (now a standby); failures are warnings.
    private func dropSlot(_ slotName: String, on node: NodeRecord) {
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
