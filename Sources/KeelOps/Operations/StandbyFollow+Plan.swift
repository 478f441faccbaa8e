#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KeelCore
import KeelPostgres

/// The steps of `standby follow`, in the order they run.
public enum FollowStep: String, Sendable, Equatable, CaseIterable {
    /// This node's slot on the follow target.
    case createSlot = "create replication slot"
    /// `primary_conninfo` and `primary_slot_name` with ALTER SYSTEM.
    case setUpstream = "set primary_conninfo"
    /// Apply them with `pg_reload_conf()`.
    case reload = "reload configuration"
    /// Apply them with a restart (`standby_follow_restart`, or PostgreSQL before 13).
    case restart = "restart server"
    /// Wait up to `standby_follow_timeout` for streaming from the target.
    case waitForStreaming = "wait for streaming"
    /// Drop this node's slot on the former upstream.
    case dropFormerSlot = "drop slot on former upstream"
    /// The new upstream on the primary and the event `standby_follow`.
    case record = "record upstream"

    /// The steps the checks' findings call for: the slot only when it is missing (with slots), a restart
    /// or a reload, and the former upstream's slot dropped only when there was one other than the target.
    public static func plan(createSlot: Bool, restart: Bool, dropFormerSlot: Bool) -> [FollowStep] {
        var steps: [FollowStep] = []
        if createSlot { steps.append(.createSlot) }
        steps += [.setUpstream, restart ? .restart : .reload, .waitForStreaming]
        if dropFormerSlot { steps.append(.dropFormerSlot) }
        steps.append(.record)
        return steps
    }
}

/// What the steps of one follow learn as they run (the clock start, the elapsed time).
final class FollowProgress {
    /// When the new upstream was set.
    var started: ContinuousClock.Instant?
    /// Seconds from the configuration change to the confirmed streaming connection.
    var elapsed: Double = 0
}

extension StandbyFollow {
    /// The plan for `facts`, each `FollowStep` with its dry-run line and its action.
    func makePlan(_ facts: Facts, progress: FollowProgress) throws -> OperationPlan {
        let config = context.config
        let former = facts.formerUpstreamID.flatMap { $0 == facts.targetRecord.nodeID ? nil : $0 }
        let kinds = FollowStep.plan(createSlot: config.useReplicationSlots && !facts.slotExists, restart: facts.restart,
                                    dropFormerSlot: config.useReplicationSlots && former != nil)
        let restartCommand = facts.restart ? try restartDescription() : ""
        let steps = kinds.map { kind in step(kind, facts: facts, progress: progress, former: former, restartCommand: restartCommand) }
        return OperationPlan(ready: "prerequisites for following \(facts.targetRecord.nodeLabel) are met", steps: steps)
    }

    /// How the restart is done, for the dry run.
    private func restartDescription() throws -> String {
        let service = LocalService(context: context)
        return try LocalService.actions(for: "restart", in: context.config).map { try service.commandLine($0) }.joined(separator: ", then ")
    }

    /// One step of the plan.
    private func step(_ kind: FollowStep, facts: Facts, progress: FollowProgress, former: Int?, restartCommand: String) -> PlanStep {
        let config = context.config
        let targetLabel = facts.targetRecord.nodeLabel
        let slotName = NodeRecord.slotName(for: config.nodeID)
        switch kind {
        case .createSlot:
            return PlanStep(kind.rawValue, detail: "would create replication slot \"\(slotName)\" on \(targetLabel)") {
                do {
                    try facts.target.query("SELECT pg_catalog.pg_create_physical_replication_slot($1)", [slotName])
                } catch {
                    throw KeelError(.followFailed, "unable to create replication slot \"\(slotName)\" on follow target \(targetLabel)",
                                    detail: "\(error)", hint: "check max_replication_slots on the follow target")
                }
                context.logger.info("replication slot \"\(slotName)\" created on \(targetLabel)")
            }
        case .setUpstream:
            let conninfo = StandbyClone.primaryConninfo(upstream: facts.targetRecord.conninfo, config: config, replicationUser: context.replicationUser)
            let slotSetting = config.useReplicationSlots ? " and primary_slot_name = '\(slotName)'" : ""
            return PlanStep(kind.rawValue, detail: "would set primary_conninfo = '\(Conninfo.masked(conninfo))'\(slotSetting)") {
                progress.started = ContinuousClock().now
                try setUpstream(facts.local, conninfo: conninfo)
            }
        case .reload:
            return PlanStep(kind.rawValue, detail: "would reload the server configuration") {
                try context.query { _ = try facts.local.query("SELECT pg_catalog.pg_reload_conf()") }
                context.logger.info("configuration reloaded: primary_conninfo now points to \(targetLabel)")
            }
        case .restart:
            return PlanStep(kind.rawValue, detail: "would restart the server with: \(restartCommand)") {
                context.logger.notice("restarting the server to apply the new upstream (standby_follow_restart)")
                try await LocalService(context: context).run("restart", failure: .noRestart)
            }
        case .waitForStreaming:
            let timeout = config.int("standby_follow_timeout")
            return PlanStep(kind.rawValue, detail: "would wait up to \(timeout) seconds (standby_follow_timeout) for this node to stream from \(targetLabel)") {
                try await waitForStreaming(facts, timeout: timeout, progress: progress)
            }
        case .dropFormerSlot:
            return PlanStep(kind.rawValue, detail: "would drop replication slot \"\(slotName)\" on the former upstream node (ID: \(former ?? 0)) when it is reachable") {
                if let former { await dropFormerSlot(slotName, formerID: former, nodes: facts.nodes) }
            }
        case .record:
            return PlanStep(kind.rawValue, detail: "would record \(config.nodeLabel) as a standby of \(targetLabel)") {
                try await record(facts)
            }
        }
    }

    /// `primary_conninfo` and `primary_slot_name` (reset without slots) with ALTER SYSTEM.
    private func setUpstream(_ local: Connection, conninfo: String) throws {
        let config = context.config
        try context.query {
            try alterSystem(local, "primary_conninfo", conninfo)
            if config.useReplicationSlots {
                try alterSystem(local, "primary_slot_name", NodeRecord.slotName(for: config.nodeID))
            } else {
                try local.query("ALTER SYSTEM RESET primary_slot_name")
            }
            for setting in LogicalSlots.standbySettings(config: config, logger: context.logger) {
                try alterSystem(local, setting.name, setting.value)
            }
        }
    }

    /// Waits until `pg_stat_wal_receiver` streams from the target's host and port (reconnecting after a
    /// restart). On timeout — also when the server is not running at all — records a failed
    /// `standby_follow` on the primary and throws 23.
    private func waitForStreaming(_ facts: Facts, timeout: Int, progress: FollowProgress) async throws {
        let clock = ContinuousClock()
        let started = progress.started ?? clock.now
        let targetLabel = facts.targetRecord.nodeLabel
        context.logger.notice("waiting up to \(timeout) seconds (parameter \"standby_follow_timeout\") for this node to stream from \(targetLabel)")
        let host = Conninfo.value("host", in: facts.targetRecord.conninfo) ?? Conninfo.value("hostaddr", in: facts.targetRecord.conninfo)
        let port = Conninfo.value("port", in: facts.targetRecord.conninfo) ?? "5432"
        let deadline = started.advanced(by: .seconds(timeout))
        var connection: Connection? = facts.restart ? nil : facts.local
        while true {
            if connection == nil || connection?.isOK == false { connection = try? Connection(conninfo: context.config.conninfo) }
            if let row = try? connection?.queryRow("SELECT status, sender_host, sender_port::text AS sender_port FROM pg_catalog.pg_stat_wal_receiver"),
               row.string("status") == "streaming", host == nil || row.string("sender_host") == host, row.string("sender_port") == port {
                progress.elapsed = StandbyPromote.seconds(clock.now - started)
                context.logger.info("this node is streaming from \(targetLabel)")
                return
            }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .seconds(1))
        }
        let running = connection?.isOK == true
        let details = "this node did not start streaming from upstream \(targetLabel) within \(timeout) seconds (standby_follow_timeout)"
            + (running ? "" : "; the local PostgreSQL server is not running")
        let primary = try primaryConnection(target: facts.target, targetInRecovery: facts.targetInRecovery, targetLabel: targetLabel)
        await EventWriter(context: context).record(.standbyFollow, successful: false, details: details, on: primary, primary: facts.targetRecord)
        throw KeelError(.followFailed, "STANDBY FOLLOW failed", detail: details,
                        hint: running ? "primary_conninfo was changed; check the PostgreSQL log of this node"
                                      : "primary_conninfo was changed; start the server (check service_start_command) and its log")
    }

    /// The new upstream in this node's record on the primary, and the event `standby_follow`.
    private func record(_ facts: Facts) async throws {
        let config = context.config
        let primary = try primaryConnection(target: facts.target, targetInRecovery: facts.targetInRecovery, targetLabel: facts.targetRecord.nodeLabel)
        if let primary {
            let found = try context.query { try MetadataStore(connection: primary).markFollowing(nodeID: config.nodeID, upstreamNodeID: facts.targetRecord.nodeID) }
            if !found { context.logger.warning("node \(config.nodeID) has no record on the primary; its upstream was not recorded") }
        }
        let details = "standby attached to upstream \(facts.targetRecord.nodeLabel)"
        await EventWriter(context: context).record(.standbyFollow, details: details, on: primary, primary: facts.targetRecord)
        context.logger.notice("STANDBY FOLLOW successful", metadata: ["detail": "\(details)"])
    }
}
