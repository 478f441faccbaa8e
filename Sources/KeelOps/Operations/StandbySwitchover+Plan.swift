#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// The steps of `standby switchover`, in the order they run.
public enum SwitchoverStep: String, Sendable, Equatable, CaseIterable {
    /// Pause keeld on every node with a running keeld.
    case pauseDaemons = "pause keeld"
    /// Stop the old primary (remote `node service --action=stop --checkpoint`) and confirm its clean shutdown.
    case stopPrimary = "stop primary"
    /// Confirm that this node received the old primary's shutdown checkpoint.
    case confirmReceived = "confirm shutdown checkpoint received"
    /// Promote this node.
    case promote = "promote"
    /// Remote `node rejoin` of the old primary.
    case rejoinPrimary = "rejoin old primary"
    /// `--siblings-follow`: the other standbys and the witness follow this node.
    case siblingsFollow = "siblings follow"
    /// Unpause keeld.
    case unpauseDaemons = "unpause keeld"
    /// The event `standby_switchover`; exit 22 when a step after the promotion did not complete.
    case record = "record event"

    /// The steps: keeld paused and unpaused only when some runs and `--repmgrd-no-pause` is not given
    /// (`--repmgrd-force-unpause` unpauses even then), the siblings only with `--siblings-follow`.
    public static func plan(pause: Bool, unpause: Bool, siblingsFollow: Bool) -> [SwitchoverStep] {
        var steps: [SwitchoverStep] = pause ? [.pauseDaemons] : []
        steps += [.stopPrimary, .confirmReceived, .promote, .rejoinPrimary]
        if siblingsFollow { steps.append(.siblingsFollow) }
        if unpause { steps.append(.unpauseDaemons) }
        steps.append(.record)
        return steps
    }
}

/// What the steps of one switchover learn as they run.
final class SwitchoverProgress {
    /// When the stop request was sent.
    var started: ContinuousClock.Instant?
    /// The old primary's shutdown checkpoint.
    var checkpoint: LSN?
    /// Seconds from the stop request until this node accepted writes.
    var elapsed: Double = 0
    /// A connection to this node as the new primary.
    var newPrimary: Connection?
    /// What did not complete after the promotion, and the commands to run next.
    var problems: [String] = []
    var commands: [String] = []
}

extension StandbySwitchover {
    /// The plan for what the pre-checks found, each `SwitchoverStep` with its dry-run line and action; a
    /// failure up to the promotion is undone (the old primary started again, keeld unpaused: exit 18).
    func makePlan(_ checked: SwitchoverPlan, progress: SwitchoverProgress) async throws -> OperationPlan {
        let pauser = DaemonPauser(context: context)
        let planned = options.noPause ? [] : try pauser.planned(primary: checked.primary, nodes: checked.nodes)
        if options.noPause {
            context.logger.info("keeld will not be paused (--repmgrd-no-pause)")
        } else if planned.isEmpty {
            context.logger.info("no keeld is running: nothing to pause")
        }
        let unpauseIDs = options.forceUnpause ? checked.nodes.map(\.nodeID) : planned
        let kinds = SwitchoverStep.plan(pause: !planned.isEmpty, unpause: !unpauseIDs.isEmpty, siblingsFollow: options.siblingsFollow)
        var steps: [PlanStep] = []
        for kind in kinds {
            steps.append(try await step(kind, checked, progress: progress, paused: planned, unpause: unpauseIDs))
        }
        return OperationPlan(ready: "prerequisites for executing STANDBY SWITCHOVER are met", steps: steps)
    }

    /// One step of the plan.
    private func step(_ kind: SwitchoverStep, _ checked: SwitchoverPlan, progress: SwitchoverProgress, paused: [Int], unpause: [Int]) async throws -> PlanStep {
        let config = context.config
        let stopArgs = ["node", "service", "--action=stop", "--checkpoint"]
        let ids = { (list: [Int]) in list.map(String.init).joined(separator: ", ") }
        switch kind {
        case .pauseDaemons:
            return PlanStep(kind.rawValue, detail: "would pause keeld on node(s) \(ids(paused))") {
                try await DaemonPauser(context: context).pause(paused, primary: checked.primary, nodes: checked.nodes)
            }
        case .stopPrimary:
            return PlanStep(kind.rawValue, detail: try await stopDetail(checked, arguments: stopArgs)) {
                progress.started = ContinuousClock().now
                do {
                    progress.checkpoint = try await stopPrimary(checked, arguments: stopArgs)
                } catch let error as KeelError {
                    throw await undo(checked, paused: paused, because: error)
                }
            }
        case .confirmReceived:
            return PlanStep(kind.rawValue, detail: "would wait up to \(config.int("shutdown_check_timeout")) seconds (shutdown_check_timeout) for its clean shutdown, then check that this node received its shutdown checkpoint (wal_receive_check_timeout: \(config.int("wal_receive_check_timeout")) seconds)") {
                do {
                    try await confirmReceived(progress.checkpoint ?? .zero, plan: checked)
                } catch let error as KeelError {
                    throw await undo(checked, paused: paused, because: error)
                }
            }
        case .promote:
            return PlanStep(kind.rawValue, detail: "would promote \(config.nodeLabel)") {
                try await promote(checked, progress: progress, paused: paused)
            }
        case .rejoinPrimary:
            return PlanStep(kind.rawValue, detail: "would rejoin \(checked.primaryLabel) with: \(Conninfo.masked(checked.primaryRemote.display(rejoinArguments)))") {
                await rejoinOldPrimary(checked, progress: progress)
            }
        case .siblingsFollow:
            let follow = SiblingsFollow(context: context, remoteUser: options.remoteUser)
            let siblings = reachableSiblings(checked)
            let detail = siblings.isEmpty ? "no sibling to make follow"
                : siblings.map { "would make sibling \($0.nodeLabel) follow with: \(follow.display($0, newPrimary: checked.localRecord))" }.joined(separator: "\n")
            return PlanStep(kind.rawValue, detail: detail) { await siblingsFollow(checked, progress: progress) }
        case .unpauseDaemons:
            return PlanStep(kind.rawValue, detail: "would unpause keeld on node(s) \(ids(unpause))") {
                DaemonPauser(context: context).unpause(unpause, primary: progress.newPrimary)
            }
        case .record:
            return PlanStep(kind.rawValue, detail: "would record the event standby_switchover") { try await record(checked, progress: progress) }
        }
    }

    /// The dry run's lines for the stop: the remote command and, when the primary's keel can list it, the
    /// command that runs there.
    private func stopDetail(_ checked: SwitchoverPlan, arguments: [String]) async throws -> String {
        var detail = "would stop \(checked.primaryLabel) with: \(Conninfo.masked(checked.primaryRemote.display(arguments)))"
        guard context.dryRun else { return detail }
        let listed = try await checked.primaryRemote.run(["node", "service", "--list-actions", "--action=stop"], timeout: 60)
        if listed.succeeded, let line = listed.stdout.split(whereSeparator: \.isNewline).last(where: { $0.contains("stop:") }) {
            detail += "\n  which runs on that node: \(line.trimmingSpaces().dropFirst("stop: ".count))"
        }
        return detail
    }

    /// The siblings that will be made to follow (reachable ones; `--siblings-follow` only).
    private func reachableSiblings(_ checked: SwitchoverPlan) -> [NodeRecord] {
        guard options.siblingsFollow else { return [] }
        return checked.siblings.filter { s in !checked.unreachableSiblings.contains { $0.nodeID == s.nodeID } }
    }

    /// Promotes this node (`StandbyPromote`'s own checks find no running primary now). A promotion that
    /// was not confirmed but happened is exit 22 with the commands to run; one that failed is undone (18).
    private func promote(_ checked: SwitchoverPlan, progress: SwitchoverProgress, paused: [Int]) async throws {
        let config = context.config
        var promoteContext = context
        promoteContext.dryRun = false
        do {
            _ = try await StandbyPromote(context: promoteContext).run()
        } catch let error as KeelError {
            let local = try? Connection(conninfo: config.conninfo)
            if (try? local?.queryRow("SELECT pg_catalog.pg_is_in_recovery() AS r"))?.bool("r") == false {
                DaemonPauser(context: context).unpause(paused, primary: local)
                throw incomplete(["the promotion of \(config.nodeLabel) was not confirmed in time but it now runs as primary: \(error.message)"],
                                 commands: ["on \(config.nodeLabel): keel -f \(config.path) standby promote   (records the metadata)",
                                            Conninfo.masked(checked.primaryRemote.display(rejoinArguments))])
            }
            throw await undo(checked, paused: paused, because: KeelError(.switchoverFailed, "promotion of \(config.nodeLabel) failed: \(error.message)", detail: error.detail))
        }
        if let started = progress.started { progress.elapsed = StandbyPromote.seconds(ContinuousClock().now - started) }
        progress.newPrimary = try? Connection(conninfo: config.conninfo)
    }

    /// The remote `node rejoin` of the old primary; a failure is noted for the exit-22 report.
    private func rejoinOldPrimary(_ checked: SwitchoverPlan, progress: SwitchoverProgress) async {
        let config = context.config
        context.logger.notice("rejoining \(checked.primaryLabel) as a standby of \(config.nodeLabel)")
        let command = Conninfo.masked(checked.primaryRemote.display(rejoinArguments))
        do {
            let result = try await checked.primaryRemote.run(rejoinArguments, timeout: Double(config.int("node_rejoin_timeout") + 900))
            if result.succeeded {
                context.logger.notice("\(checked.primaryLabel) is now a standby of \(config.nodeLabel)")
                if config.useReplicationSlots { dropSlot(NodeRecord.slotName(for: config.nodeID), on: checked.primaryRecord) }
            } else {
                progress.problems.append("NODE REJOIN of \(checked.primaryLabel) failed with exit status \(result.status): \(SiblingsFollow.tail(result.stderr + result.stdout))")
                progress.commands.append(command)
            }
        } catch let error as KeelError {
            progress.problems.append("NODE REJOIN of \(checked.primaryLabel) could not be run: \(error.message)")
            progress.commands.append(command)
        } catch {
            progress.problems.append("NODE REJOIN of \(checked.primaryLabel) could not be run: \(error)")
            progress.commands.append(command)
        }
    }

    /// `--siblings-follow`: every reachable sibling follows this node; failures and unreachable siblings
    /// are noted for the exit-22 report.
    private func siblingsFollow(_ checked: SwitchoverPlan, progress: SwitchoverProgress) async {
        let follow = SiblingsFollow(context: context, remoteUser: options.remoteUser)
        for failure in await follow.run(reachableSiblings(checked), newPrimary: checked.localRecord) {
            progress.problems.append("sibling \(failure.node.nodeLabel) did not follow: \(failure.reason)")
            progress.commands.append(failure.command)
        }
        for sibling in checked.unreachableSiblings {
            progress.problems.append("sibling \(sibling.nodeLabel) was unreachable and did not follow")
            progress.commands.append(follow.display(sibling, newPrimary: checked.localRecord))
        }
    }

    /// The event `standby_switchover` (`%p` = the demoted primary); throws 22 when something after the
    /// promotion did not complete.
    private func record(_ checked: SwitchoverPlan, progress: SwitchoverProgress) async throws {
        let config = context.config
        if !options.siblingsFollow, !checked.siblings.isEmpty {
            context.logger.warning("\(checked.siblings.count) sibling node(s) remain attached to \(checked.primaryLabel), now a standby (cascading)",
                                   metadata: ["hint": "use --siblings-follow to make them follow the new primary, or run \"keel standby follow\" on them"])
        }
        let details = "\(config.nodeLabel) promoted to primary, \(checked.primaryRecord.nodeLabel) demoted to standby"
        let problems = progress.problems
        await EventWriter(context: context).record(.standbySwitchover, successful: problems.isEmpty,
                                                   details: problems.isEmpty ? details : details + "; incomplete: " + problems.joined(separator: "; "),
                                                   on: progress.newPrimary, primary: checked.primaryRecord)
        guard problems.isEmpty else { throw incomplete(problems, commands: progress.commands) }
        context.logger.notice("STANDBY SWITCHOVER has completed successfully", metadata: ["detail": "\(details)"])
        context.logger.info("switchover took \(String(cFormat: "%.1f", progress.elapsed)) seconds from the stop request to the promotion")
    }
}
